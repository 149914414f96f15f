"""A school's outcomes file, read as it is: which learner, which course, and
whether they failed.

The file needs no editing: options name its columns. A learner key is the
Moodle user id, the username, the e-mail address or the full name as a Logs
download shows it; a course key is the course id or short name, from a
column or given once for a file of one course. The outcome is a pass/fail
column (words listed as fail or pass) or a grade with a pass mark (below it
is a fail). A row whose outcome cannot be read is kept with the reason, never
dropped; joining the keys to Moodle's learners is dbt's work
(int_learner_outcomes_matched), so nothing here knows Moodle's ids.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from moodle_analytics.logs_report.reading import decode

LEARNER_KEYS = ("user_id", "username", "email", "full_name")
COURSE_KEYS = ("course_id", "short_name")
DEFAULT_FAIL_VALUES = ("fail", "failed", "f", "no", "false")
DEFAULT_PASS_VALUES = ("pass", "passed", "p", "yes", "true")

# The table moodle-risk-evaluate loads (source outcomes.learner_outcomes).
OUTCOME_TABLE_COLUMNS = {
    "outcome_row_number": "int64",
    "learner_key": "string",
    "learner_key_type": "string",
    "course_key": "string",
    "course_key_type": "string",
    "outcome_value": "string",
    "grade": "float64",
    "pass_mark": "float64",
    "is_positive": "boolean",
    "outcome_problem": "string",
    "outcome_name": "string",
    "source_file": "string",
}


class OutcomesError(ValueError):
    """The outcomes file or the options describing it cannot be used."""


@dataclass(frozen=True)
class OutcomeSpec:
    """How to read a school's outcomes file."""

    learner_column: str
    learner_key: str = "full_name"
    course_column: str | None = None
    course: str | None = None  # the one course of a file without a course column
    course_key: str = "short_name"
    result_column: str | None = None
    fail_values: tuple[str, ...] = DEFAULT_FAIL_VALUES
    pass_values: tuple[str, ...] = DEFAULT_PASS_VALUES
    grade_column: str | None = None
    pass_mark: float | None = None
    outcome_name: str | None = None
    # Only rows whose column holds this value (e.g. a status of final grades).
    only: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.learner_key not in LEARNER_KEYS:
            raise OutcomesError(f"--learner-key must be one of {', '.join(LEARNER_KEYS)}")
        if self.course_key not in COURSE_KEYS:
            raise OutcomesError(f"--course-key must be one of {', '.join(COURSE_KEYS)}")
        if (self.course_column is None) == (self.course is None):
            raise OutcomesError(
                "name the course: --course-column (a column of the file) or --course "
                "(one course id or short name for every row), not both"
            )
        if (self.result_column is None) == (self.grade_column is None):
            raise OutcomesError(
                "name the outcome: --result-column (pass/fail) or --grade-column with "
                "--pass-mark, not both"
            )
        if self.grade_column is not None and (
            self.pass_mark is None or not math.isfinite(self.pass_mark)
        ):
            raise OutcomesError("--grade-column needs --pass-mark (a number)")
        overlap = {v.casefold() for v in self.fail_values} & {
            v.casefold() for v in self.pass_values
        }
        if overlap:
            raise OutcomesError(
                f"values listed both as fail and pass: {', '.join(sorted(overlap))}"
            )

    @property
    def name(self) -> str:
        """The outcome in words: given, else from the options."""
        if self.outcome_name:
            return self.outcome_name
        if self.grade_column is not None:
            return f"fail ({self.grade_column} < {self.pass_mark:g})"
        return f"fail ({self.result_column} in {', '.join(self.fail_values)})"


def read_table(path: Path, delimiter: str | None = None) -> pd.DataFrame:
    """The file's rows as text, header first; the delimiter sniffed when not given."""
    path = Path(path)
    if not path.is_file():
        raise OutcomesError(f"{path}: no such file")
    text = decode(path.read_bytes())
    if not text.strip():
        raise OutcomesError(f"{path}: the file is empty")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    header, *body = rows
    header = [cell.strip() for cell in header]
    width = len(header)
    numbered = [
        (line, row + [""] * (width - len(row)))
        for line, row in enumerate(body, start=2)
        if any(cell.strip() for cell in row)
    ]
    frame = pd.DataFrame([row[:width] for _, row in numbered], columns=header, dtype=object)
    frame.insert(0, "outcome_row_number", [line for line, _ in numbered])
    return frame


def _column(frame: pd.DataFrame, name: str, option: str, path: Path) -> pd.Series:
    if name not in frame.columns:
        found = ", ".join(c for c in frame.columns if c != "outcome_row_number")
        raise OutcomesError(f"{path}: no column {name!r} ({option}); the columns are: {found}")
    return frame[name].fillna("").astype(str).str.strip()


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".")) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def outcome_rows(path: Path, spec: OutcomeSpec, delimiter: str | None = None) -> pd.DataFrame:
    """The file's rows as the outcomes table: keys as written, the outcome read
    (is_positive: did not pass) or the reason it cannot be."""
    path = Path(path)
    frame = read_table(path, delimiter)
    learners = _column(frame, spec.learner_column, "--learner-column", path)
    courses = (
        _column(frame, spec.course_column, "--course-column", path)
        if spec.course_column is not None
        else pd.Series(spec.course.strip(), index=frame.index)
    )
    problems = pd.Series(None, index=frame.index, dtype=object)
    grades = pd.Series(math.nan, index=frame.index)
    if spec.grade_column is not None:
        values = _column(frame, spec.grade_column, "--grade-column", path)
        grades = values.map(_number).astype("float64")
        positive = (grades < spec.pass_mark).astype("boolean").where(grades.notna())
        problems = problems.where(grades.notna(), "grade " + values.map(repr) + " is not a number")
    else:
        values = _column(frame, spec.result_column, "--result-column", path)
        folded = values.str.casefold()
        fails = folded.isin([v.casefold() for v in spec.fail_values])
        passes = folded.isin([v.casefold() for v in spec.pass_values])
        positive = fails.astype("boolean").where(fails | passes)
        problems = problems.where(
            fails | passes,
            "result "
            + values.map(repr)
            + f" is neither a fail value ({', '.join(spec.fail_values)}) "
            + f"nor a pass value ({', '.join(spec.pass_values)})",
        )
    if spec.only is not None:
        column, wanted = spec.only
        found = _column(frame, column, "--only", path)
        problems = problems.where(
            found.str.casefold() == wanted.strip().casefold(),
            f"left out by --only {column}={wanted} (found " + found.map(repr) + ")",
        )
    problems = problems.where(learners != "", "no learner key")
    problems = problems.where(courses != "", "no course key")
    positive = positive.where(problems.isna())
    table = pd.DataFrame(
        {
            "outcome_row_number": frame["outcome_row_number"].astype("int64"),
            "learner_key": learners,
            "learner_key_type": spec.learner_key,
            "course_key": courses,
            "course_key_type": spec.course_key,
            "outcome_value": values,
            "grade": grades,
            "pass_mark": spec.pass_mark if spec.grade_column is not None else math.nan,
            "is_positive": positive,
            "outcome_problem": problems,
            "outcome_name": spec.name,
            "source_file": path.name,
        }
    )
    if table.empty:
        raise OutcomesError(f"{path}: no rows below the header")
    return table.astype(OUTCOME_TABLE_COLUMNS)
