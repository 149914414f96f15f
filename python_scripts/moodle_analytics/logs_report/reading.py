"""Read Logs report downloads into one frame of text fields, one row per log row.

Moodle offers the download as CSV, Excel (.xlsx), OpenDocument (.ods) and
JSON; the format is told by the file's content, not its name (spreadsheets.py
reads the last three). CSV is read as Moodle and spreadsheet programs write
it: a UTF-8 byte order mark, CR-only, LF or CRLF line endings, quoted commas
and quotes, and quoted fields holding line breaks (an activity's name, a
label's text). Columns may come in any order (header names are trusted, in
English, French, or as --columns maps them); site-level downloads add a Course
column. A header without the report's columns stops the import with an error
that names what it lacks. A row that cannot be read (a broken quote, a wrong
number of columns) becomes a Reject naming its file and line; the other rows
are kept.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pandas as pd

from moodle_analytics.logs_report.report_format import (
    COLUMN_HEADERS,
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    normalise_header,
)
from moodle_analytics.logs_report.spreadsheets import (
    Record,
    is_json,
    is_spreadsheet,
    read_json,
    read_spreadsheet,
)

LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A quoted field may hold line breaks (a label's text); a quote still open after
# this many lines is a broken one.
MAX_LINES_PER_ROW = 200
COLUMN_KEYS = ("course", *COLUMN_HEADERS)


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {column: pd.Series(dtype=object) for column in (*COLUMN_KEYS, "file", "raw")}
    ).assign(line=pd.Series(dtype="int64"), site_level=pd.Series(dtype=bool))


@dataclass(frozen=True)
class Reject:
    file: str
    line: int
    reason: str
    raw: str


def decode(data: bytes) -> str:
    """Text of a download: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def logical_rows(
    lines: list[str], width: int, first: int = 0
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Group physical lines into rows: (first line number, text), and broken lines.

    A line with an odd number of quotes opens a quoted field; it is joined
    with the following lines until the quotes balance into one row of `width`
    fields. Otherwise (within MAX_LINES_PER_ROW lines) the first line alone is
    broken and reading goes on with the next line, so one broken quote costs
    one row.
    """
    if not any(line.count('"') % 2 for line in islice(lines, first, None)):
        # The usual file: no quoted field spans lines.
        return [(i + 1, line) for i, line in enumerate(lines) if i >= first and line.strip()], []
    rows: list[tuple[int, str]] = []
    broken: list[tuple[int, str]] = []
    index = first
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        if line.count('"') % 2 == 0:
            rows.append((index + 1, line))
            index += 1
            continue
        parts, quotes, end = [line], line.count('"'), index + 1
        while end < len(lines) and end - index < MAX_LINES_PER_ROW and quotes % 2:
            parts.append(lines[end])
            quotes += lines[end].count('"')
            end += 1
        joined = "\n".join(parts)
        if quotes % 2 == 0 and _fields_alone(joined) == width:
            rows.append((index + 1, joined))
            index = end
        else:
            broken.append((index + 1, line))
            index += 1
    return rows, broken


def _fields_alone(text: str) -> int | None:
    """Number of fields when text is exactly one CSV row, else None."""
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error:
        return None
    return len(rows[0]) if len(rows) == 1 else None


def parse_rows(texts: list[str]) -> list[list[str] | str]:
    """Fields of each text, or the reason it cannot be read.

    One csv reader runs over all texts for speed; a text that makes it read
    past its end (a quote opened mid-field) or fail is reported and reading
    restarts at the next text."""
    results: list[list[str] | str] = []
    start = 0
    while start < len(texts):
        reader = csv.reader(islice(texts, start, None), strict=True)
        consumed = 0
        try:
            for fields in reader:
                if reader.line_num - consumed > 1:
                    results.append("broken quote: the row runs into the next line")
                    start += consumed + 1
                    break
                results.append(fields)
                consumed = reader.line_num
            else:
                start = len(texts)
        except csv.Error as error:
            results.append(f"broken quote: {error}")
            start += consumed + 1
    return results


class DownloadError(ValueError):
    """A file that is no Logs report download; the message says why."""


def read_download(
    path: str | Path, label: str | None = None, columns: dict[str, str] | None = None
) -> tuple[pd.DataFrame, list[Reject]]:
    """Rows of one download as text columns (see COLUMN_KEYS) plus file, line and raw.

    columns maps header texts (normalised) to column keys, for headers in a
    language the importer does not know."""
    path = Path(path)
    label = label or str(path)
    data = path.read_bytes()
    if is_spreadsheet(data) or is_json(data):
        table = read_spreadsheet(path) if is_spreadsheet(data) else read_json(path, data)
        if not table:
            return empty_frame(), []
        header, records = table[0], table[1:]
        return _frame(label, header, records, [], columns)
    lines = LINE_BREAK.split(decode(data))
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        return empty_frame(), []
    header = next(csv.reader([lines[header_index]]))
    body, broken = logical_rows(lines, len(header), header_index + 1)
    rejects = [Reject(label, line, 'broken quote (unbalanced ")', text) for line, text in broken]
    records = []
    for (line, text), fields in zip(body, parse_rows([t for _, t in body]), strict=True):
        if isinstance(fields, str):
            rejects.append(Reject(label, line, fields, text))
        else:
            records.append(Record(line, fields, text))
    return _frame(
        label, Record(header_index + 1, header, lines[header_index]), records, rejects, columns
    )


def header_keys(header: list[str], columns: dict[str, str] | None = None) -> list[str | None]:
    """The column key of each header cell (None for columns the import does not use)."""
    aliases = {**HEADER_ALIASES, **(columns or {})}
    return [aliases.get(normalise_header(name)) for name in header]


def _frame(
    label: str,
    header: Record,
    records: list[Record],
    rejects: list[Reject],
    columns: dict[str, str] | None,
) -> tuple[pd.DataFrame, list[Reject]]:
    keys = header_keys(header.fields, columns)
    missing = [key for key in REQUIRED_COLUMNS if key not in keys]
    if missing:
        names = ", ".join(COLUMN_HEADERS[key] for key in missing)
        found = ", ".join(repr(name) for name in header.fields[:12])
        raise DownloadError(
            f"{label}: not a Logs report download, or one in a language the import does not "
            f"know: its header (line {header.line}: {found}) lacks {names}; name its columns "
            "with --columns, e.g. --columns 'Zeit=Time' (a legacy mdl_log table export goes to "
            "moodle-import-files)"
        )
    width = len(header.fields)
    positions = {key: keys.index(key) for key in COLUMN_KEYS if key in keys}
    good = []
    for record in records:
        if len(record.fields) != width:
            reason = f"expected {width} columns, found {len(record.fields)}"
            rejects.append(Reject(label, record.line, reason, record.raw))
        else:
            good.append(record)
    cells = pd.DataFrame([r.fields for r in good], columns=range(width), dtype=object)
    frame = pd.DataFrame(index=cells.index)
    for key in COLUMN_KEYS:
        position = positions.get(key)
        frame[key] = cells[position].astype(str).str.strip() if position is not None else None
    frame["file"] = label
    frame["line"] = pd.Series([r.line for r in good], dtype="int64")
    frame["raw"] = [r.raw for r in good]
    frame["site_level"] = "course" in positions
    rejects.sort(key=lambda reject: reject.line)
    return frame, rejects
