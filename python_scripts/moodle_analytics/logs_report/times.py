"""The Time column as UTC epoch seconds.

Moodle writes the time in the exporting user's timezone and in a format that
depends on the version: "11 May, 09:44" (up to 2.9, no year), "17/10/21, 12:38"
(3.0 to 3.11) or "17/10/21, 12:38:05" (4.0 and later). Four-digit years and
ISO times are read too.

A time without a year is placed by what the user knows of the course, never
by the order of the rows (real downloads are grouped by user, not by time):

* --term-start: each day-month takes the year in which it falls on or after
  the term start (so a term never spans more than a year);
* --year: the year of a download's oldest row. Which row is oldest comes from
  the calendar alone: the longest stretch of the year without any row is the
  break between the end of the download and its start, and the day-months
  after that break take the year, those before it the next;
* --course-end (alone): as --year, with the year that puts the download's
  oldest row on or before the course end.

So no time is placed more than a year from the others. A day-month that does
not exist in the year it is given (29 Feb) is rejected with that reason.
"""

from __future__ import annotations

from datetime import date, timedelta

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
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?\s*$"
)
ISO = (
    r"^\s*(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[ T]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*$"
)
FAST_SECONDS = "%d/%m/%y, %H:%M:%S"
FAST_MINUTES = "%d/%m/%y, %H:%M"
PARTS = ("year", "month", "day", "hour", "minute", "second")
LEAP_YEAR_DAYS = 366
LEAP_MONTH_STARTS = np.cumsum([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30])


def split_times(text: pd.Series) -> pd.DataFrame:
    """Year, month, ... of each time as floats (NaN where the text lacks them)."""
    parts = pd.DataFrame(np.nan, index=text.index, columns=[*PARTS, "has_seconds"])
    parts["has_seconds"] = False
    # Read day first; order_day_month turns a month-first download's round.
    parts["numeric_date"] = False
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
        parts.loc[parsed.index, "numeric_date"] = True
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
        if pattern is not ISO:
            pm = found["ampm"].str.casefold() == "pm"
            hour = pd.to_numeric(found["hour"])
            found["hour"] = hour.where(found["ampm"].isna(), hour % 12 + 12 * pm)
        parts.loc[found.index, "numeric_date"] = pattern is DAY_MONTH_NUMBER
        for part in PARTS:
            parts.loc[found.index, part] = pd.to_numeric(found[part], errors="coerce")
        parts.loc[found.index, "has_seconds"] = found["second"].notna()
        pending[found.index] = False
    two_digit = parts["year"] < 100
    # Python's %y: 69-99 are 1969-1999, 00-68 are 2000-2068.
    parts.loc[two_digit, "year"] += np.where(parts.loc[two_digit, "year"] >= 69, 1900, 2000)
    parts["second"] = parts["second"].fillna(0)
    return parts


def order_day_month(parts: pd.DataFrame, files: pd.Series, date_order: str | None) -> None:
    """Turn day and month round (in place) in the numeric dates of month-first downloads.

    date_order 'mdy' or 'dmy' says it for every file; else each file's dates
    say it when one number exceeds 12 ('17/10/21' is day first, '10/17/21' is
    month first). A file whose dates fit both orders (every number 12 or less)
    stops the import with an error asking for --date-order."""
    numeric = parts["numeric_date"].astype(bool)
    for file, rows in parts[numeric].groupby(files[numeric], sort=False):
        order = date_order
        if order is None:
            day_first = bool((rows["day"] > 12).any())
            month_first = bool((rows["month"] > 12).any())
            if day_first == month_first and (rows["day"] != rows["month"]).any():
                raise ValueError(
                    f"{file}: its dates fit day/month/year and month/day/year alike"
                    + (" (and contradict each other)" if day_first else "")
                    + "; say which with --date-order dmy or --date-order mdy"
                )
            order = "mdy" if month_first else "dmy"
        if order == "mdy":
            parts.loc[rows.index, ["day", "month"]] = rows[["month", "day"]].to_numpy()


def fill_missing_years(
    parts: pd.DataFrame,
    files: pd.Series,
    year: int | None = None,
    term_start: date | None = None,
    course_end: date | None = None,
) -> None:
    """Give year-less times a year (in place); see the module docstring."""
    yearless = parts["year"].isna() & parts["month"].notna()
    if not yearless.any() or (year is None and term_start is None and course_end is None):
        return
    rows = parts[yearless]
    if term_start is not None:
        before = (rows["month"] < term_start.month) | (
            (rows["month"] == term_start.month) & (rows["day"] < term_start.day)
        )
        parts.loc[rows.index, "year"] = term_start.year + before.astype(int)
        return
    # Day of a leap year (1 Jan = 0, 29 Feb = 59): every day-month has one.
    day_of_year = LEAP_MONTH_STARTS[rows["month"].astype("int64").to_numpy() - 1] + rows["day"] - 1
    for _, days in day_of_year.astype("int64").groupby(files[rows.index], sort=False):
        start = download_start(days)
        if year is not None:
            first_year = year
        else:
            start_day = date(2000, 1, 1) + timedelta(days=start)
            later = (start_day.month, start_day.day) > (course_end.month, course_end.day)
            first_year = course_end.year - int(later)
        parts.loc[days.index, "year"] = first_year + (days < start).astype(int)


def download_start(day_of_year: pd.Series) -> int:
    """The day of the year a download's oldest row falls on: the first after the
    longest stretch of the calendar year without any row."""
    days = np.unique(day_of_year.to_numpy())
    # Circular gaps: from each day to the next, the last one wrapping over New Year.
    following = np.append(days[1:], days[0] + LEAP_YEAR_DAYS)
    return int(following[np.argmax(following - days)] % LEAP_YEAR_DAYS)


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
