"""Moodle's gradebook export (Grades > Export > Plain text file) read for import.

Columns: "First name", "Last name", "ID number", "Institution", "Department",
"Email address", one column per grade item ("Quiz: Quiz 1 (Real)",
"Assignment: Assignment 1 (Real)", "Course total (Real)", ...) and "Last
downloaded from this course" (when the export was made, which dates the
grades). A grade of "-" is no grade.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from moodle_analytics.logs_report.reading import decode
from moodle_analytics.logs_report.report_format import MODULE_BY_DISPLAY_NAME, normalise_header

PERSON_COLUMNS = {
    "first name": "firstname",
    "last name": "lastname",
    "id number": "idnumber",
    "institution": "institution",
    "department": "department",
    "email address": "email",
}
DOWNLOADED_COLUMN = "last downloaded from this course"
# Moodle's strftimedatetime, as in "Monday, 10 March 2025, 10:00 AM" (English).
DOWNLOADED_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M")
ITEM_HEADER = re.compile(r"^(?P<item>.+?)\s*\((?P<display>Real|Percentage|Letter)\)$")
COURSE_TOTAL = re.compile(r"^course total$", re.IGNORECASE)
CATEGORY_TOTAL = re.compile(r"total$", re.IGNORECASE)


@dataclass
class GradeColumn:
    header: str
    itemtype: str  # course, mod or manual
    module: str | None
    name: str
    display: str  # Real, Percentage or Letter


@dataclass
class GradedPerson:
    fields: dict[str, str]
    grades: list[float | None] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.fields.get('firstname', '')} {self.fields.get('lastname', '')}".strip()


@dataclass
class Gradebook:
    path: str
    columns: list[GradeColumn]
    people: list[GradedPerson]
    skipped_columns: list[str]
    # When the file was downloaded (local time of the exporting user), if it says.
    downloaded_at: datetime | None = None


def parse_downloaded(text: str) -> datetime | None:
    for pattern in DOWNLOADED_FORMATS:
        try:
            return datetime.strptime(" ".join(text.split()), pattern)
        except ValueError:
            continue
    return None


def parse_grade(text: str) -> float | None:
    text = text.strip().replace("\u00a0", "").rstrip("%").strip()
    if text in ("", "-"):
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_gradebook(path: str | Path) -> Gradebook:
    rows = list(csv.reader(decode(Path(path).read_bytes()).splitlines()))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return Gradebook(str(path), [], [], [])
    header = rows[0]
    check_layout(path, header)
    person_positions: dict[str, int] = {}
    downloaded_position = None
    grade_positions: list[tuple[int, GradeColumn]] = []
    skipped: list[str] = []
    for position, text in enumerate(header):
        key = normalise_header(text)
        if key in PERSON_COLUMNS:
            person_positions[PERSON_COLUMNS[key]] = position
            continue
        if key == DOWNLOADED_COLUMN:
            downloaded_position = position
            continue
        match = ITEM_HEADER.match(text.strip())
        if not match:
            skipped.append(text)
            continue
        item, display = match.group("item").strip(), match.group("display")
        if display == "Letter":
            skipped.append(text)  # letters cannot be turned back into points
            continue
        if COURSE_TOTAL.match(item):
            column = GradeColumn(text, "course", None, "Course total", display)
        elif ":" in item:
            label, name = (part.strip() for part in item.split(":", 1))
            module = MODULE_BY_DISPLAY_NAME.get(label.casefold())
            column = GradeColumn(text, "mod" if module else "manual", module, name, display)
        elif CATEGORY_TOTAL.search(item):
            skipped.append(text)  # category totals are computed by Moodle
            continue
        else:
            column = GradeColumn(text, "manual", None, item, display)
        grade_positions.append((position, column))
    people = []
    downloads = []
    for row in rows[1:]:

        def cell(position: int, row=row) -> str:
            return row[position].strip() if position < len(row) else ""

        person = GradedPerson({key: cell(pos) for key, pos in person_positions.items()})
        person.grades = [parse_grade(cell(position)) for position, _ in grade_positions]
        people.append(person)
        if downloaded_position is not None:
            downloads.append(parse_downloaded(cell(downloaded_position)))
    columns = [column for _, column in grade_positions]
    downloaded_at = max((moment for moment in downloads if moment), default=None)
    return Gradebook(str(path), columns, people, skipped, downloaded_at)


def check_layout(path: str | Path, header: list[str]) -> None:
    """Stop on a file that is not Moodle's gradebook export, naming what it expected."""
    keys = {normalise_header(text) for text in header}
    has_person = bool(keys & {"first name", "last name", "email address"})
    has_grades = any(ITEM_HEADER.match(text.strip()) for text in header)
    if has_person and has_grades:
        return
    found = ", ".join(text.strip() for text in header[:12]) + (", ..." if len(header) > 12 else "")
    raise ValueError(
        f"{path}: not a Moodle gradebook export (Grades > Export > Plain text file): "
        "expected the columns First name, Last name (or Email address) and grade items "
        "such as 'Quiz: Quiz 1 (Real)' or 'Course total (Real)'; found: " + found
    )


def inferred_grademax(values: list[float | None], display: str) -> float:
    """The smallest usual maximum (10, 20, 100) no grade exceeds, else the next ten."""
    if display == "Percentage":
        return 100.0
    top = max((v for v in values if v is not None), default=0.0)
    for scale in (10.0, 20.0, 100.0):
        if top <= scale:
            return scale
    return float(math.ceil(top / 10.0) * 10)
