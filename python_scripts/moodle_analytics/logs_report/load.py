"""moodle-logs-import: load Moodle Logs report downloads into Moodle's tables.

Every teacher can download a course's log (Course > Reports > Logs >
Download, CSV). This command reads one or many such files (course or
site-level downloads, any Moodle version's time format) and writes Moodle's
tables into a DuckDB file, so the dbt project runs without database access.

What it recovers: log rows (event class from Component and Event name through
the event catalogue; user, course, activity and affected-user ids from the
Description; time as UTC from --timezone), users (names from User full name;
"Real user as User" rows set realuserid), courses (names from "Course: ..."),
activities (type and name from "Quiz: Week 1 quiz" and the like) and roles.

Learners come from --roster when given; otherwise they are inferred per
course: the users who act in the course or are affected by its events, minus
teachers (users who do teaching events - edulevel 1 - to others' work or to
the course as a whole, e.g. grading or the grader report; who create
activities or calendar events or view the course's log report; or whom a
logged role assignment gives role 3 or 4) and minus other staff (users who
enrol or assign roles to others, are given role 1 or 2, log in as others, or
do site administration). The guest user, user 0 and ids a named download
shows as "-" (users Moodle no longer has) are never learners. A learner
promoted to teacher who never teaches in the log stays a learner. Learners
get the student role and an enrolment starting at their first event;
teachers get the editingteacher role. People in a --grades file are learners
too when no roster is given.

Course dates: a course starts on the Monday of the week its learners start
(--course-start to set it) and, when its learners stopped taking part at
least 4 weeks before the newest row of the downloads (last term's course
downloaded with this term's), ends on the Monday after their last week
(--course-end to set it); otherwise it is running and has no end date. A
course whose learners start at their own times is self-paced and has neither.
Give the downloads of past terms with the running one: the risk models train
on the courses whose outcome is known; with one term the rule-based score is
used. --build then runs `dbt build` on the tables written.

Robustness: BOM, CR/LF/CRLF, reordered columns, quoted commas and quotes,
masked names ("-"), unknown or localised event names (kept as
\\unknown\\event\\<component>__<name>, counted), newest-first order and rows
repeated by overlapping downloads (loaded once, counted). A row that cannot be
read (broken quote, unreadable time, wrong number of columns) is reported with
its file and line and written to the rejects CSV; the rest loads. Totals
always add up: read = loaded + duplicates + rejected.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import yaml

from moodle_analytics.logs_report.build import run_dbt_build
from moodle_analytics.logs_report.importer import ImportOptions, import_logs
from moodle_analytics.logs_report.report_format import (
    COLUMN_HEADERS,
    COURSE_HEADER,
    normalise_header,
)

# The report's English column names -> column keys, for --columns.
COLUMN_KEYS_BY_NAME = {
    normalise_header(name): key for key, name in {**COLUMN_HEADERS, "course": COURSE_HEADER}.items()
}


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (e.g. 2025-09-01)") from None


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown timezone {text!r} (e.g. Europe/Paris, UTC)"
        ) from None
    return text


def _course_date(text: str) -> tuple[str | None, date]:
    """'2025-09-01' (every course) or 'COURSE=2025-09-01' (id, short or full name)."""
    name, _, value = text.rpartition("=")
    return (name.strip() or None, _date(value.strip()))


def _split_course_dates(values: list[tuple[str | None, date]]) -> tuple[date | None, dict]:
    """The bare date (the last one given) and the dates of named courses."""
    bare = [day for name, day in values if name is None]
    return (bare[-1] if bare else None), {name: day for name, day in values if name}


def _dbt_vars(text: str) -> dict:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"--vars is not YAML: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"--vars must be a mapping, e.g. '{{key: 1}}': {text!r}")
    return value


def _grades_file(text: str) -> tuple[str | None, Path]:
    """'grades.csv' or 'COURSE=grades.csv'."""
    if Path(text).is_file() or "=" not in text:
        return (None, Path(text))
    course, _, path = text.partition("=")
    return (course.strip() or None, Path(path))


def _column(text: str) -> tuple[str, str]:
    """'Zeit=Time': a header of the download -> the report's column it holds."""
    header, _, name = text.rpartition("=")
    key = COLUMN_KEYS_BY_NAME.get(normalise_header(name))
    if not header.strip() or key is None:
        names = ", ".join(repr(n) for n in (*COLUMN_HEADERS.values(), COURSE_HEADER))
        raise argparse.ArgumentTypeError(
            f"expected HEADER=COLUMN with COLUMN one of {names}, got {text!r}"
        )
    return normalise_header(header), key


def _grade_setting(text: str) -> tuple[str, float]:
    """'Quiz 1=10' or '10' (the course total)."""
    name, _, value = text.rpartition("=")
    try:
        return (name.strip() or "Course total", float(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected NUMBER or ITEM NAME=NUMBER, got {text!r}"
        ) from None


EXAMPLE = """\
examples:
  moodle-logs-import logs_ALG101_2024FA.csv logs_ALG101_2025SP.csv --timezone Europe/Paris \\
      --grades ALG101_2025SP_grades.csv --grade-pass 50 --build
  moodle-logs-import logs_ALG101_20250301-1200.csv logs_ALG101_20250601-0900.csv \\
      --timezone Europe/Paris --course-start 2025-02-24 --course-end ALG101=2025-06-27
  make logs-report FILES="a.csv b.csv" TIMEZONE=Europe/Paris   # import, build, dashboard"""


def build_parser() -> argparse.ArgumentParser:
    paragraphs = [textwrap.fill(" ".join(part.split()), 79) for part in __doc__.split("\n\n")]
    parser = argparse.ArgumentParser(
        prog="moodle-logs-import",
        description=paragraphs[1],
        epilog="\n\n".join([*paragraphs[3:6], EXAMPLE]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, help="Logs report downloads (CSV)")
    parser.add_argument(
        "--duckdb",
        type=Path,
        default=Path("data/moodle_source.duckdb"),
        help="DuckDB file to (re)create with the Moodle tables (default: %(default)s, "
        "where `make run` looks)",
    )
    parser.add_argument("--schema", default="public", help="schema of the tables")
    parser.add_argument("--prefix", default="mdl_", help="table prefix")
    when = parser.add_argument_group("time")
    when.add_argument(
        "--timezone",
        type=_timezone,
        default="UTC",
        help="timezone of the user who downloaded the files (default: %(default)s)",
    )
    when.add_argument(
        "--date-order",
        choices=("dmy", "mdy"),
        help="order of numeric dates (17/10/21 is dmy, 10/17/21 mdy; default: told by each "
        "download's dates, asked for when they fit both)",
    )
    years = when.add_mutually_exclusive_group()
    years.add_argument(
        "--year",
        type=int,
        help="for times without a year (Moodle up to 2.9): year of each file's oldest row "
        "(the first day after the longest stretch of the year without rows); earlier "
        "day-months take the next year",
    )
    years.add_argument(
        "--term-start",
        type=_date,
        help="for times without a year (Moodle up to 2.9): each day-month takes the year in "
        "which it falls on or after this date (the surest way to date such a download)",
    )
    when.add_argument(
        "--course-start",
        type=_course_date,
        action="append",
        default=[],
        metavar="[COURSE=]DATE",
        help="course start date; COURSE= (id, short or full name) sets one course's, and "
        "may be repeated (default: the Monday of the first week in which a quarter of the "
        "learners take part, so that early enrolments and stray visits do not count)",
    )
    when.add_argument(
        "--course-end",
        type=_course_date,
        action="append",
        default=[],
        metavar="[COURSE=]DATE",
        help="course end date, as --course-start (default: the Monday after the last week "
        "in which a fifth as many learners as at the busiest take part, for a course whose "
        "learners stopped at least 4 weeks before the newest row of the downloads, e.g. last "
        "term's course downloaded with this term's; else none: the course is running); "
        "a bare date also dates times without a year when --term-start and --year are not "
        "given (the download's oldest row falls on or before it)",
    )
    parser.add_argument(
        "--columns",
        type=_column,
        action="append",
        default=[],
        metavar="HEADER=COLUMN",
        help="for a download whose header is in a language the import does not know: which "
        "of the report's columns (Time, User full name, Affected user, Event context, "
        "Component, Event name, Description, Origin, IP address, Course) a header holds, "
        "e.g. --columns 'Zeit=Time'; repeatable",
    )
    people = parser.add_argument_group("people and grades")
    people.add_argument(
        "--roster",
        type=Path,
        help="CSV of the learners' user ids or full names (optional course column); "
        "without it learners are inferred as described above",
    )
    people.add_argument(
        "--grades",
        type=_grades_file,
        action="append",
        default=[],
        metavar="[COURSE=]FILE",
        help="gradebook export (Grades > Export > Plain text file); may be repeated; its "
        "course is the one whose learners it lists, or COURSE= (id, short or full name)",
    )
    people.add_argument(
        "--grade-max",
        type=_grade_setting,
        action="append",
        default=[],
        metavar="[ITEM=]NUMBER",
        help="maximum grade of an item (default: 10, 20 or 100, the smallest no grade "
        "exceeds); a bare number is the course total's",
    )
    people.add_argument(
        "--grade-pass",
        type=_grade_setting,
        action="append",
        default=[],
        metavar="[ITEM=]NUMBER",
        help="pass grade of an item; a bare number is the course total's",
    )
    parser.add_argument(
        "--rejects",
        type=Path,
        help="CSV of rows that could not be read: file, line, reason, raw "
        "(default: <duckdb name>_rejects.csv beside the DuckDB file)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the totals line")
    build = parser.add_argument_group("build")
    build.add_argument(
        "--build",
        action="store_true",
        help="then run `dbt build --full-refresh` on the tables written and report each "
        "course's learners and how risk was scored",
    )
    build.add_argument(
        "--dbt-output",
        action="store_true",
        help="show every line dbt prints (default: its problems and outcome; the rest is "
        "in logs/dbt.log)",
    )
    build.add_argument(
        "--project-dir",
        type=Path,
        help="dbt project to build (default: the one this command comes with)",
    )
    build.add_argument(
        "--vars",
        type=_dbt_vars,
        default={},
        metavar="YAML",
        help="dbt variables for the build, as dbt's --vars, e.g. '{weeks_when_no_end_date: 12}'",
    )
    build.add_argument(
        "--warehouse",
        type=Path,
        help="DuckDB file dbt builds into (default: $MOODLE_ANALYTICS_DUCKDB, else "
        "data/moodle_analytics.duckdb in the project)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    grades = [path for _, path in args.grades]
    for path in [*args.files, *grades, *([args.roster] if args.roster else [])]:
        if not path.is_file():
            parser.error(f"no such file: {path}")
    course_start, course_starts = _split_course_dates(args.course_start)
    course_end, course_ends = _split_course_dates(args.course_end)
    options = ImportOptions(
        timezone=args.timezone,
        date_order=args.date_order,
        columns=dict(args.columns),
        year=args.year,
        term_start=args.term_start,
        course_start=course_start,
        course_end=course_end,
        course_starts=course_starts,
        course_ends=course_ends,
        roster=args.roster,
        grades=grades,
        grade_courses={str(path): course for course, path in args.grades if course},
        grade_max=dict(args.grade_max),
        grade_pass=dict(args.grade_pass),
        rejects=args.rejects,
        schema=args.schema,
        prefix=args.prefix,
    )
    try:
        totals = import_logs(args.files, args.duckdb, options)
    except (OSError, ValueError) as error:
        print(f"moodle-logs-import: error: {error}", file=sys.stderr)
        return 2
    summary = totals.summary()
    print(summary.splitlines()[0] if args.quiet else summary)
    print(f"moodle-logs-import: tables written to {args.duckdb}; rejects in {totals.rejects_path}")
    if not totals.loaded and totals.read:
        return 1
    if not args.build:
        return 0
    try:
        result = run_dbt_build(
            args.duckdb,
            project=args.project_dir,
            warehouse=args.warehouse,
            schema=args.schema,
            prefix=args.prefix,
            variables=args.vars,
            brief=not args.dbt_output,
        )
    except (OSError, duckdb.Error) as error:
        print(f"moodle-logs-import: error: {error}", file=sys.stderr)
        return 2
    if result.returncode:
        print(f"moodle-logs-import: dbt build failed ({result.returncode})", file=sys.stderr)
        return result.returncode
    print(f"moodle-logs-import: marts built in {result.warehouse}")
    for line in result.report:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
