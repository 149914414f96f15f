"""Write logstore_standard_log rows as Moodle's Logs report download.

The download of Course > Reports > Logs (or the site-level one, which adds a
Course column first) has the columns Time, User full name, Affected user,
Event context, Component, Event name, Description, Origin, IP address, newest
row first. ExportOptions covers every variant real files show: the three time
formats of Moodle versions in the exporting user's timezone, CR-only, LF or
CRLF line endings, a UTF-8 byte order mark, reordered columns, user names
masked as "-" or replaced by pseudonyms, and event names in another language.

Used by the tests to write fixture downloads from a demo database, and by
anyone who wants to try moodle-logs-import on a database they already have
(export_gradebook writes a course's gradebook export, for --grades):

    python -m moodle_analytics.logs_report.export --duckdb data/moodle_source.duckdb \
        --course 2 --out course2_logs.csv
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from moodle_analytics import cli_options
from moodle_analytics.event_catalogue import EventType, load_event_catalogue
from moodle_analytics.logs_report.descriptions import FALLBACK_TEMPLATE, TEMPLATES, render
from moodle_analytics.logs_report.report_format import (
    COLUMN_HEADERS,
    COURSE_HEADER,
    MODULE_DISPLAY_NAMES,
    MONTH_ABBREVIATIONS,
    TIME_FORMAT_SECONDS,
    TIME_FORMATS,
)
from moodle_analytics.moodle_db.tables import MOODLE_TABLES

PROG = "moodle-logs-export"
LINE_ENDINGS = {"crlf": "\r\n", "lf": "\n", "cr": "\r"}
MASKS = ("dash", "pseudonym")

# A few event names as a French-speaking teacher's download shows them.
FRENCH_EVENT_NAMES: dict[str, str] = {
    "\\core\\event\\course_viewed": "Cours consulté",
    "\\mod_page\\event\\course_module_viewed": "Module de cours consulté",
    "\\mod_resource\\event\\course_module_viewed": "Module de cours consulté",
    "\\mod_quiz\\event\\attempt_submitted": "Tentative de test remise",
    "\\mod_forum\\event\\discussion_viewed": "Discussion consultée",
}


@dataclass(frozen=True)
class ExportOptions:
    """How the download looks; the defaults are a Moodle 4.x course download in UTC."""

    time_format: str = TIME_FORMAT_SECONDS
    timezone: str = "UTC"
    line_ending: str = "lf"  # lf, crlf or cr
    bom: bool = False
    # Header names in the order to write them; None is Moodle's order.
    columns: Sequence[str] | None = None
    mask_names: str | None = None  # None, "dash" or "pseudonym"
    # Event class -> name to show instead of the catalogue's English name.
    event_names: Mapping[str, str] = field(default_factory=dict)
    site_level: bool = False
    # Moodle hides anonymous events (e.g. anonymous feedback) from teachers.
    include_anonymous: bool = True

    def __post_init__(self) -> None:
        if self.line_ending not in LINE_ENDINGS:
            raise ValueError(f"line_ending must be one of {sorted(LINE_ENDINGS)}")
        if self.mask_names not in (None, *MASKS):
            raise ValueError(f"mask_names must be None or one of {MASKS}")
        known = set(self.header())
        if self.columns is not None and not set(self.columns) <= known:
            raise ValueError(f"unknown columns {sorted(set(self.columns) - known)}")

    def header(self) -> list[str]:
        headers = list(COLUMN_HEADERS.values())
        return [COURSE_HEADER, *headers] if self.site_level else headers


def _module_tables() -> list[str]:
    """Module tables this project knows that have an activity name."""
    return [
        table
        for table in MODULE_DISPLAY_NAMES
        if table in MOODLE_TABLES and any(c[0] == "name" for c in MOODLE_TABLES[table])
    ]


def read_source_log(
    database: str | Path | duckdb.DuckDBPyConnection,
    course_id: int | None = None,
    schema: str = "public",
    prefix: str = "mdl_",
) -> pd.DataFrame:
    """Log rows of one course (or of the whole site) with the names the report shows."""
    connection = (
        database
        if isinstance(database, duckdb.DuckDBPyConnection)
        else duckdb.connect(str(database), read_only=True)
    )

    def t(table: str) -> str:
        return f'"{schema}"."{prefix}{table}"'

    existing = {
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
        ).fetchall()
    }
    instance_selects = [
        f"SELECT '{table}' AS module, id, name FROM {t(table)}"
        for table in _module_tables()
        if f"{prefix}{table}" in existing
    ] or ["SELECT NULL AS module, NULL AS id, NULL AS name"]
    where = "" if course_id is None else "WHERE l.courseid = $course"
    sql = f"""
        WITH instances AS ({" UNION ALL ".join(instance_selects)}),
        cm_names AS (
            SELECT cm.id, m.name AS module, i.name
            FROM {t("course_modules")} cm
            JOIN {t("modules")} m ON m.id = cm.module
            LEFT JOIN instances i ON i.module = m.name AND i.id = cm.instance
        ),
        names AS (SELECT id, firstname || ' ' || lastname AS fullname FROM {t("user")})
        SELECT l.*, u.fullname AS user_name, ru.fullname AS related_name,
            rl.fullname AS real_name, lc.shortname AS course_shortname,
            x.contextlevel AS context_level_found, xc.fullname AS context_course,
            xm.module AS context_module, xm.name AS context_activity,
            xu.fullname AS context_user, xk.name AS context_category
        FROM {t("logstore_standard_log")} l
        LEFT JOIN names u ON u.id = l.userid
        LEFT JOIN names ru ON ru.id = l.relateduserid
        LEFT JOIN names rl ON rl.id = l.realuserid
        LEFT JOIN {t("course")} lc ON lc.id = l.courseid
        LEFT JOIN {t("context")} x ON x.id = l.contextid
        LEFT JOIN {t("course")} xc ON x.contextlevel = 50 AND xc.id = x.instanceid
        LEFT JOIN cm_names xm ON x.contextlevel = 70 AND xm.id = x.instanceid
        LEFT JOIN names xu ON x.contextlevel = 30 AND xu.id = x.instanceid
        LEFT JOIN {t("course_categories")} xk ON x.contextlevel = 40 AND xk.id = x.instanceid
        {where}
        ORDER BY l.timecreated DESC, l.id DESC
    """
    parameters = {} if course_id is None else {"course": course_id}
    return connection.execute(sql, parameters).df()


def format_times(epochs: np.ndarray | pd.Series, time_format: str, timezone: str) -> pd.Series:
    """Epoch seconds as the report prints them in the exporter's timezone.

    %b is written in English whatever the process locale, as Moodle does for
    an English-speaking user."""
    if time_format not in TIME_FORMATS:
        raise ValueError(f"time_format must be one of {TIME_FORMATS}")
    local = pd.Series(
        pd.to_datetime(np.asarray(epochs, dtype="int64"), unit="s", utc=True)
    ).dt.tz_convert(timezone)
    pieces = time_format.split("%b")
    text = local.dt.strftime(pieces[0])
    months = local.dt.month.map(lambda m: MONTH_ABBREVIATIONS[m - 1])
    for piece in pieces[1:]:
        text = text + months + (local.dt.strftime(piece) if piece else "")
    return text.astype(object)


def parse_other(text: object) -> dict:
    """Moodle's `other` column (JSON, or PHP-serialised on older sites) as a dict."""
    if not isinstance(text, str) or text in ("", "null", "N;"):
        return {}
    if text.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    values: dict = {}
    # Flat PHP arrays only: s:<n>:"key";<value>; is all events keep there.
    for key, string, number in re.findall(
        r's:\d+:"([^"]*)";(?:s:\d+:"([^"]*)";|[idb]:([-0-9.]+);|N;)', text
    ):
        values[key] = string if string else (number or None)
    return values


def context_names(frame: pd.DataFrame) -> pd.Series:
    """The Event context column: 'Course: <full name>', 'Quiz: <name>', 'System', ..."""
    level = frame["context_level_found"].astype("float64")  # NaN: the context is gone
    course_name = "Course: " + frame["context_course"].fillna("")
    front_page = (level == 50) & (frame["contextinstanceid"] == 1)
    module_label = frame["context_module"].map(
        lambda module: MODULE_DISPLAY_NAMES.get(module, str(module).capitalize())
    )
    activity = module_label + ": " + frame["context_activity"].fillna("")
    user = "User: " + frame["context_user"].fillna("")
    category = "Category: " + frame["context_category"].fillna("")
    names = np.select(
        [
            level == 10,
            front_page,
            (level == 50) & frame["context_course"].notna(),
            (level == 70) & frame["context_module"].notna(),
            (level == 30) & frame["context_user"].notna(),
            (level == 40) & frame["context_category"].notna(),
        ],
        ["System", "Front page", course_name, activity, user, category],
        default="Other",  # Moodle's word when the context no longer exists
    )
    return pd.Series(names, index=frame.index, dtype=object)


def _pseudonyms(frame: pd.DataFrame) -> dict[int, str]:
    ids = pd.concat([frame["userid"], frame["relateduserid"], frame["realuserid"]]).dropna()
    return {
        int(user): f"Participant {number}"
        for number, user in enumerate(sorted(set(ids.astype("int64")) - {0}), start=1)
    }


def _column(frame: pd.DataFrame, name: str) -> list:
    """A column as a Python list with None for SQL NULL (ids as int)."""
    series = frame[name]
    if pd.api.types.is_numeric_dtype(series):
        return [None if pd.isna(v) else int(v) for v in series.astype("float64").tolist()]
    return [v if isinstance(v, str) else None for v in series.astype(object).tolist()]


def render_rows(frame: pd.DataFrame, options: ExportOptions) -> list[list[str]]:
    """Rows of the download (header first) from read_source_log's frame."""
    catalogue: dict[str, EventType] = load_event_catalogue()
    if not options.include_anonymous:
        frame = frame[frame["anonymous"] == 0]
    frame = frame.reset_index(drop=True)
    pseudonym = _pseudonyms(frame) if options.mask_names == "pseudonym" else {}

    def name_of(user_id: int | None, name: str | None) -> str:
        if options.mask_names == "dash" or user_id is None:
            return "-"
        if options.mask_names == "pseudonym":
            return pseudonym.get(user_id, "-")
        return name if name is not None else "-"

    times = format_times(frame["timecreated"], options.time_format, options.timezone).tolist()
    if options.mask_names:
        # A user's own context names them too.
        user_context = frame["context_level_found"] == 30
        frame.loc[user_context, "context_user"] = [
            name_of(int(u), None) for u in frame.loc[user_context, "contextinstanceid"]
        ]
    contexts = context_names(frame).tolist()
    columns = {
        name: _column(frame, name)
        for name in (
            "eventname", "component", "objecttable", "other", "origin", "ip", "user_name",
            "related_name", "real_name", "course_shortname", "userid", "relateduserid",
            "realuserid", "courseid", "contextlevel", "contextinstanceid", "objectid",
        )
    }  # fmt: skip
    rows: list[list[str]] = []
    for index in range(len(frame)):
        row = {name: values[index] for name, values in columns.items()}
        event = catalogue.get(row["eventname"])
        user_name = name_of(row["userid"], row["user_name"])
        if row["realuserid"] is not None and options.mask_names != "dash":
            user_name = f"{name_of(row['realuserid'], row['real_name'])} as {user_name}"
        values = {
            "userid": row["userid"],
            "relateduserid": row["relateduserid"],
            "courseid": row["courseid"],
            "cmid": row["contextinstanceid"] if row["contextlevel"] == 70 else None,
            "objectid": row["objectid"],
            "objecttable": row["objecttable"],
            "modname": (row["component"] or "").removeprefix("mod_"),
            "eventname": row["eventname"],
        }
        values.update({f"other_{k}": v for k, v in parse_other(row["other"]).items()})
        template = TEMPLATES.get(row["eventname"], FALLBACK_TEMPLATE)
        if event is None:
            component, name = row["component"], row["eventname"]
        else:
            component = event.component_display_name
            name = options.event_names.get(row["eventname"], event.display_name)
        course = row["course_shortname"] if row["course_shortname"] and row["courseid"] else "-"
        rows.append(
            [
                course,
                times[index],
                user_name,
                name_of(row["relateduserid"], row["related_name"]),
                contexts[index],
                component,
                name,
                render(template, values),
                row["origin"] or "",
                row["ip"] or "",
            ]
        )
    all_headers = [COURSE_HEADER, *COLUMN_HEADERS.values()]
    wanted = list(options.columns) if options.columns is not None else options.header()
    positions = [all_headers.index(header) for header in wanted]
    return [wanted] + [[row[p] for p in positions] for row in rows]


def write_report(rows: list[list[str]], path: str | Path, options: ExportOptions) -> None:
    encoding = "utf-8-sig" if options.bom else "utf-8"
    with Path(path).open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, lineterminator=LINE_ENDINGS[options.line_ending])
        writer.writerows(rows)


def export_logs_report(
    database: str | Path | duckdb.DuckDBPyConnection,
    path: str | Path,
    course_id: int | None = None,
    options: ExportOptions | None = None,
    schema: str = "public",
    prefix: str = "mdl_",
) -> int:
    """Write the download of one course (None: the site) to path; returns its row count."""
    options = options or ExportOptions(site_level=course_id is None)
    frame = read_source_log(database, course_id, schema, prefix)
    rows = render_rows(frame, options)
    write_report(rows, path, options)
    return len(rows) - 1


GRADEBOOK_PERSON_HEADERS = (
    "First name", "Last name", "ID number", "Institution", "Department", "Email address",
)  # fmt: skip
DOWNLOADED_HEADER = "Last downloaded from this course"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")  # fmt: skip


def export_gradebook(
    database: str | Path | duckdb.DuckDBPyConnection,
    path: str | Path,
    course_id: int,
    timezone: str = "UTC",
    downloaded_at: int | None = None,
    schema: str = "public",
    prefix: str = "mdl_",
) -> int:
    """Write a course's gradebook as Grades > Export > Plain text file does (real values,
    a row per student); returns the number of students. downloaded_at (epoch
    seconds; default: the course's newest log row) fills the last column."""
    if not isinstance(database, duckdb.DuckDBPyConnection):
        with duckdb.connect(str(database), read_only=True) as connection:
            return export_gradebook(
                connection, path, course_id, timezone, downloaded_at, schema, prefix
            )
    connection = database

    def t(table: str) -> str:
        return f'"{schema}"."{prefix}{table}"'

    items = connection.execute(
        f"SELECT id, itemtype, itemmodule, itemname FROM {t('grade_items')} "
        "WHERE courseid = ? AND gradetype = 1 ORDER BY itemtype = 'course', sortorder, id",
        [course_id],
    ).fetchall()
    students = connection.execute(
        f"""
        SELECT DISTINCT u.id, u.firstname, u.lastname, u.idnumber, u.institution,
            u.department, u.email
        FROM {t("role_assignments")} ra
        JOIN {t("context")} x ON x.id = ra.contextid AND x.contextlevel = 50
        JOIN {t("user")} u ON u.id = ra.userid
        WHERE x.instanceid = ? AND ra.roleid = 5 AND u.deleted = 0
        ORDER BY u.lastname, u.firstname, u.id
        """,
        [course_id],
    ).fetchall()
    grades = {
        (item, user): value
        for item, user, value in connection.execute(
            f"SELECT g.itemid, g.userid, g.finalgrade FROM {t('grade_grades')} g "
            f"JOIN {t('grade_items')} i ON i.id = g.itemid WHERE i.courseid = ?",
            [course_id],
        ).fetchall()
    }
    if downloaded_at is None:
        downloaded_at = connection.execute(
            f"SELECT max(timecreated) FROM {t('logstore_standard_log')} WHERE courseid = ?",
            [course_id],
        ).fetchone()[0]
    local = pd.Timestamp(int(downloaded_at or 0), unit="s", tz="UTC").tz_convert(timezone)
    # As Moodle writes it: no leading zero on the day and the hour, English names.
    downloaded = (
        f"{WEEKDAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year}, "
        f"{(local.hour - 1) % 12 + 1}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    )

    def item_header(itemtype: str, module: str | None, name: str | None) -> str:
        if itemtype == "course":
            return "Course total (Real)"
        if itemtype == "mod" and module:
            return f"{MODULE_DISPLAY_NAMES.get(module, module.capitalize())}: {name} (Real)"
        return f"{name} (Real)"

    header = [*GRADEBOOK_PERSON_HEADERS, *(item_header(*item[1:]) for item in items)]
    rows = [[*header, DOWNLOADED_HEADER]]
    for user, *person in students:
        values = [grades.get((item[0], user)) for item in items]
        cells = ["-" if value is None else f"{float(value):.2f}" for value in values]
        rows.append([*(text or "" for text in person), *cells, downloaded])
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return len(students)


def main(argv: list[str] | None = None) -> int:
    parser = cli_options.parser(
        PROG, "Write Moodle's Logs report download from a Moodle database in DuckDB."
    )
    cli_options.add_source_duckdb(parser, "--duckdb", "DuckDB file with the Moodle tables")
    cli_options.add_moodle_tables(parser)
    parser.add_argument("--course", type=int, help="course id; omit for the site-level download")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--time-format", default=TIME_FORMAT_SECONDS, choices=TIME_FORMATS)
    parser.add_argument("--timezone", default="UTC", help="exporting user's timezone")
    parser.add_argument("--line-ending", default="lf", choices=sorted(LINE_ENDINGS))
    parser.add_argument("--bom", action="store_true", help="start with a UTF-8 byte order mark")
    parser.add_argument("--mask-names", choices=MASKS, help="hide user names")
    parser.add_argument("--french", action="store_true", help="a few event names in French")
    parser.add_argument(
        "--gradebook-out",
        type=Path,
        help="also write the course's gradebook export (for moodle-logs-import --grades)",
    )
    args = parser.parse_args(argv)
    if args.gradebook_out and args.course is None:
        parser.error("--gradebook-out needs --course")
    options = ExportOptions(
        time_format=args.time_format,
        timezone=args.timezone,
        line_ending=args.line_ending,
        bom=args.bom,
        mask_names=args.mask_names,
        event_names=FRENCH_EVENT_NAMES if args.french else {},
        site_level=args.course is None,
    )
    try:
        cli_options.input_duckdb(args.duckdb, "--duckdb")
        cli_options.output_file(args.out, "--out")
        if args.gradebook_out:
            cli_options.output_file(args.gradebook_out, "--gradebook-out")
        count = export_logs_report(
            args.duckdb, args.out, args.course, options, schema=args.schema, prefix=args.prefix
        )
        if count == 0:
            # A header alone is no download: the import would refuse it.
            args.out.unlink()
            which = f"course {args.course}" if args.course is not None else "the site"
            raise cli_options.InputError(f"{args.duckdb} holds no log rows of {which}")
        print(f"wrote {count:,} rows to {args.out}")
        if args.gradebook_out:
            students = export_gradebook(
                args.duckdb, args.gradebook_out, args.course, args.timezone,
                schema=args.schema, prefix=args.prefix,
            )  # fmt: skip
            print(f"wrote the gradebook of {students:,} students to {args.gradebook_out}")
    except (cli_options.InputError, duckdb.Error, OSError) as error:
        return cli_options.fail(PROG, error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
