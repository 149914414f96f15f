"""The Time column as UTC epoch seconds.

Moodle writes the time in the exporting user's timezone and in a format that
depends on the version: "11 May, 09:44" (up to 2.9, no year), "17/10/21, 12:38"
(3.0 to 3.11) or "17/10/21, 12:38:05" (4.0 and later). Four-digit years and
ISO times are read too. A time without a year takes it from --term-start (the
year in which that day-month first falls on or after the term start) or from
--year (the year of a download's oldest row; walking the rows in time order, a
step back in the calendar that is a step of under half a year forward across
New Year starts the next year, which is how a course running over New Year
reads; a longer one is taken for a clock error in the row before).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from moodle_analytics.logs_report.report_format import MONTH_NUMBERS

DAY_MONTH_NAME = (
    r"^\s*(?P<day>\d{1,2})\.? (?P<month>[^\W\d_]{3,})\.?,? "
    r"(?:(?P<year>\d{4}),? )?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"\s*(?P<ampm>[AaPp][Mm])?\s*$"
)
DAY_MONTH_NUMBER = (
    r"^\s*(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4}|\d{2}),? "
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*$"
)
ISO = (
    r"^\s*(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[ T]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*$"
)
FAST_SECONDS = "%d/%m/%y, %H:%M:%S"
FAST_MINUTES = "%d/%m/%y, %H:%M"
PARTS = ("year", "month", "day", "hour", "minute", "second")
# Calendar position of a year-less time, in minutes (months count 32 days).
YEAR = 12 * 32 * 24 * 60
HALF_YEAR = YEAR // 2


def split_times(text: pd.Series) -> pd.DataFrame:
    """Year, month, ... of each time as floats (NaN where the text lacks them)."""
    parts = pd.DataFrame(np.nan, index=text.index, columns=[*PARTS, "has_seconds"])
    parts["has_seconds"] = False
    pending = pd.Series(True, index=text.index)
    # Fast path for the formats of Moodle 3 and 4; the patterns read the rest.
    for exact, has_seconds in ((FAST_SECONDS, True), (FAST_MINUTES, False)):
        if not pending.any():
            break
        parsed = pd.to_datetime(text[pending], format=exact, errors="coerce")
        parsed = parsed[parsed.notna()]
        if parsed.empty:
            continue
        for part in PARTS:
            parts.loc[parsed.index, part] = getattr(parsed.dt, part).astype("float64")
        parts.loc[parsed.index, "has_seconds"] = has_seconds
        pending[parsed.index] = False
    for pattern in (DAY_MONTH_NUMBER, DAY_MONTH_NAME, ISO):
        found = text[pending].str.extract(pattern)
        matched = found["day"].notna()
        if not matched.any():
            continue
        found = found[matched]
        if pattern is DAY_MONTH_NAME:
            words = found["month"].str.casefold().str.rstrip(".")
            found["month"] = words.map(MONTH_NUMBERS)
            pm = found["ampm"].str.casefold() == "pm"
            hour = pd.to_numeric(found["hour"])
            found["hour"] = hour.where(found["ampm"].isna(), hour % 12 + 12 * pm)
        for part in PARTS:
            parts.loc[found.index, part] = pd.to_numeric(found[part], errors="coerce")
        parts.loc[found.index, "has_seconds"] = found["second"].notna()
        pending[found.index] = False
    two_digit = parts["year"] < 100
    # Python's %y: 69-99 are 1969-1999, 00-68 are 2000-2068.
    parts.loc[two_digit, "year"] += np.where(parts.loc[two_digit, "year"] >= 69, 1900, 2000)
    parts["second"] = parts["second"].fillna(0)
    return parts


def fill_missing_years(
    parts: pd.DataFrame,
    files: pd.Series,
    order: pd.Series,
    year: int | None,
    term_start: date | None,
) -> None:
    """Give year-less times a year (in place); see the module docstring."""
    yearless = parts["year"].isna() & parts["month"].notna()
    if not yearless.any() or (year is None and term_start is None):
        return
    rows = parts[yearless]
    if term_start is not None:
        before = (rows["month"] < term_start.month) | (
            (rows["month"] == term_start.month) & (rows["day"] < term_start.day)
        )
        parts.loc[rows.index, "year"] = term_start.year + before.astype(int)
        return
    calendar = ((rows["month"] * 32 + rows["day"]) * 24 + rows["hour"]) * 60 + rows["minute"]
    frame = pd.DataFrame({"file": files[rows.index], "order": order[rows.index], "at": calendar})
    # Rows are newest first in a download: walk each file from its last row.
    frame = frame.sort_values(["file", "order"], ascending=[True, False])
    step = frame.groupby("file", sort=False)["at"].diff()
    # A fall in the calendar is New Year when it is a short step forward across
    # it; a long one means the row before was a clock error, not a new year.
    turned = (step < 0) & (step + YEAR < HALF_YEAR)
    frame["offset"] = turned.astype(int).groupby(frame["file"], sort=False).cumsum()
    parts.loc[frame.index, "year"] = year + frame["offset"]


def to_epoch(parts: pd.DataFrame, timezone: str) -> pd.Series:
    """UTC epoch seconds (float, NaN where the parts are no real local time).

    Times in the hour a DST change repeats are read as the first of the two;
    times in the hour it skips are moved forward, as Moodle never writes them."""
    complete = parts[list(PARTS)].notna().all(axis=1)
    epoch = pd.Series(np.nan, index=parts.index)
    if not complete.any():
        return epoch
    fields = parts.loc[complete, list(PARTS)].astype("int64")
    local = pd.to_datetime(fields, errors="coerce")
    valid = local.notna()
    local = local[valid]
    zoned = local.dt.tz_localize(
        timezone, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_forward"
    )
    seconds = (zoned.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    epoch[seconds.index] = seconds.astype("float64")
    return epoch


def local_midnight_epoch(day: date, timezone: str) -> int:
    moment = pd.Timestamp(day).tz_localize(timezone, nonexistent="shift_forward")
    return int(moment.tz_convert("UTC").timestamp())


def monday_of_week_epoch(epoch: float, timezone: str) -> int:
    """Epoch of 00:00 local time on the Monday of the week holding epoch."""
    local = pd.Timestamp(int(epoch), unit="s", tz="UTC").tz_convert(timezone)
    monday = (local - pd.Timedelta(days=local.weekday())).date()
    return local_midnight_epoch(monday, timezone)
