"""The Logs report downloaded as Excel (.xlsx), OpenDocument (.ods) or JSON.

Moodle's "Download table data as" offers these beside CSV. The spreadsheets
are read with python-calamine (first sheet, every cell as text; a time a
spreadsheet program turned into a date is written back as an ISO time). JSON
is Moodle's dataformat_json: a list of rows, each a list of values in the
report's column order (a site-level download has the Course column first) or
an object keyed by the report's column names; a list of such lists (one per
sheet) is read too. Each gives the header row and Records as the CSV reader
does, so every format loads the same.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from python_calamine import CalamineError, load_workbook

from moodle_analytics.logs_report.report_format import COLUMN_HEADERS, COURSE_HEADER

ZIP_MAGIC = b"PK\x03\x04"  # .xlsx and .ods are zip archives
# The report's column keys in Moodle's report_log table, as JSON objects hold them.
JSON_KEYS = {
    "time": "Time",
    "fullnameuser": "User full name",
    "relatedfullnameuser": "Affected user",
    "context": "Event context",
    "component": "Component",
    "eventname": "Event name",
    "description": "Description",
    "origin": "Origin",
    "ip": "IP address",
    "course": COURSE_HEADER,
}


@dataclass(frozen=True)
class Record:
    """One row as read: its line (or spreadsheet row) number, fields and raw text."""

    line: int
    fields: list[str]
    raw: str


def is_spreadsheet(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC)


def is_json(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _raw(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _records(rows: list[list[str]], first_line: int = 1) -> list[Record]:
    return [
        Record(number, row, _raw(row))
        for number, row in enumerate(rows, start=first_line)
        if any(cell.strip() for cell in row)
    ]


def read_spreadsheet(path: Path) -> list[Record]:
    """Header and rows of the first sheet, as Records (line = the sheet's row number)."""
    try:
        workbook = load_workbook(str(path))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable Excel or ODS file ({error})") from None
    texts = [[_text(cell) for cell in row] for row in rows]
    # Trailing empty cells (a spreadsheet's ragged right edge) are not columns.
    width = max((len(row) - next((i for i, c in enumerate(reversed(row)) if c), len(row))
                 for row in texts), default=0)  # fmt: skip
    return _records([row[:width] + [""] * (width - len(row)) for row in texts])


def read_json(path: Path, data: bytes) -> list[Record]:
    """Header and rows of a JSON download, as Records (line = the row's position)."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not readable JSON ({error})") from None
    rows = value if isinstance(value, list) else [value]
    if (
        rows
        and all(isinstance(row, list) for row in rows)
        and all(row and all(isinstance(item, list | dict) for item in row) for row in rows)
    ):
        rows = [item for sheet in rows for item in sheet]  # one list per sheet
    if not rows:
        return []
    if all(isinstance(row, dict) for row in rows):
        keys = list(dict.fromkeys(key for row in rows for key in row))
        header = [JSON_KEYS.get(key, key) for key in keys]
        body = [[_text(row.get(key)) for key in keys] for row in rows]
    elif all(isinstance(row, list) for row in rows):
        width = max(len(row) for row in rows)
        names = list(COLUMN_HEADERS.values())
        header = [COURSE_HEADER, *names] if width == len(names) + 1 else names[:width]
        body = [[_text(item) for item in row] for row in rows]
    else:
        raise ValueError(f"{path}: JSON rows must all be lists or all objects")
    # Line numbers count the (implied) header as line 1, as in the CSV.
    return _records([header]) + _records(body, first_line=2)
