"""Read Logs report downloads into one frame of text fields, one row per log row.

Tolerates what real downloads hold: a UTF-8 byte order mark, CR-only, LF or
CRLF line endings, columns in any order (header names are trusted), the Course
column of site-level downloads and properly quoted commas and quotes. A row
that cannot be read (a broken quote, a wrong number of columns) becomes a
Reject naming its file and line; the other rows are kept.
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

LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A quoted field may hold a line break; longer runs are a broken quote.
MAX_LINES_PER_ROW = 5
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
        joined, end = line, index + 1
        while end < len(lines) and end - index < MAX_LINES_PER_ROW:
            joined += "\n" + lines[end]
            end += 1
            if joined.count('"') % 2 == 0:
                break
        if joined.count('"') % 2 == 0 and _fields_alone(joined) == width:
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


def read_download(path: str | Path, label: str | None = None) -> tuple[pd.DataFrame, list[Reject]]:
    """Rows of one download as text columns (see COLUMN_KEYS) plus file, line and raw."""
    path = Path(path)
    label = label or str(path)
    lines = LINE_BREAK.split(decode(path.read_bytes()))
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        return empty_frame(), []
    header_line = header_index + 1
    header = next(csv.reader([lines[header_index]]))
    width = len(header)
    body, broken = logical_rows(lines, width, header_index + 1)
    rejects = [Reject(label, line, 'broken quote (unbalanced ")', text) for line, text in broken]
    keys = [HEADER_ALIASES.get(normalise_header(name)) for name in header]
    missing = [key for key in REQUIRED_COLUMNS if key not in keys]
    if missing:
        names = ", ".join(COLUMN_HEADERS[key] for key in missing)
        reason = f"header on line {header_line} lacks {names}"
        rejects += [Reject(label, line, reason, text) for line, text in body]
        return empty_frame(), rejects
    positions = {key: keys.index(key) for key in COLUMN_KEYS if key in keys}
    good_fields, good_lines, good_texts = [], [], []
    for (line, text), fields in zip(body, parse_rows([t for _, t in body]), strict=True):
        if isinstance(fields, str):
            rejects.append(Reject(label, line, fields, text))
        elif len(fields) != width:
            reason = f"expected {width} columns, found {len(fields)}"
            rejects.append(Reject(label, line, reason, text))
        else:
            good_fields.append(fields)
            good_lines.append(line)
            good_texts.append(text)
    cells = pd.DataFrame(good_fields, columns=range(width), dtype=object)
    frame = pd.DataFrame(index=cells.index)
    for key in COLUMN_KEYS:
        position = positions.get(key)
        frame[key] = cells[position].str.strip() if position is not None else None
    frame["file"] = label
    frame["line"] = good_lines
    frame["raw"] = good_texts
    frame["site_level"] = "course" in positions
    rejects.sort(key=lambda reject: reject.line)
    return frame, rejects
