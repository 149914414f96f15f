"""moodle-import-files: load exports of Moodle's tables into the project's source file.

Reads one Parquet or CSV file per table (named <prefix><table>.parquet or
.csv, e.g. mdl_user.parquet) from a directory and writes them into a DuckDB
file with Moodle's column types, so `dbt build` reads them as it reads a
Moodle database. Columns are matched by name: columns Moodle versions added
or dropped are tolerated (missing ones take Moodle's default, extra ones are
reported and left out). Tables the project needs but the directory lacks stay
empty, with a warning; the log, users and courses are required.

The DuckDB file is written beside the target and swapped in only when every
file has loaded: an unreadable file (empty, garbage, a value of the wrong
type) or a required table without rows stops the import with an error naming
the file, and the previous file stays as it was.

A Moodle 2.0 to 2.6 site (or history kept from one) has only the legacy log,
mdl_log (module, action, cmid, url, info). Given as <prefix>log.parquet|csv,
its rows become logstore_standard_log rows: LEGACY_EVENTS maps a module and
action to the standard event Moodle 2.7 replaced it with, where that is one
event (course and activity views, forum discussions and posts, assignment
submissions, quiz attempts, logins, ...); the event's crud, education level
and object table come from the event catalogue, its object id from the
activity (views) or from info (posts, discussions), its context from cmid or
the course. Other actions are kept as \\unknown\\legacy\\<module>_<action>
(crud told by the action's first word, education level 0: they count as no
one's activity) and counted by name. When the export has both logs, legacy
rows before the standard log's first (past clock errors) are added (a site upgraded from 2.x
keeps its old history there); later ones repeat it and are left out, counted.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from moodle_analytics import cli_options
from moodle_analytics.event_catalogue import load_event_catalogue
from moodle_analytics.moodle_db.ddl import duckdb_type
from moodle_analytics.moodle_db.duckdb_files import replaced_atomically
from moodle_analytics.moodle_db.tables import LEGACY_LOG_COLUMNS, LEGACY_LOG_TABLE, MOODLE_TABLES
from moodle_analytics.moodle_sink import MoodleDuckDBWriter

PROG = "moodle-import-files"
REQUIRED_TABLES = ("user", "course", "context", "role_assignments")
STANDARD_LOG = "logstore_standard_log"
# Moodle 2.x log (module, action) -> the standard event Moodle 2.7 logs for it.
VIEWED = "\\mod_{}\\event\\course_module_viewed"
LIST_VIEWED = "\\mod_{}\\event\\course_module_instance_list_viewed"
# (Chat and survey left Moodle in 5.0: their rows stay unknown.)
MODULES_WITH_VIEWS = (
    "assign", "book", "choice", "data", "feedback", "folder", "forum", "glossary", "imscp",
    "lesson", "lti", "page", "quiz", "resource", "scorm", "url", "wiki", "workshop",
)  # fmt: skip
LEGACY_EVENTS: dict[tuple[str, str], str] = {
    **{(module, "view"): VIEWED.format(module) for module in MODULES_WITH_VIEWS},
    **{(module, "view all"): LIST_VIEWED.format(module) for module in MODULES_WITH_VIEWS},
    ("course", "view"): "\\core\\event\\course_viewed",
    ("course", "user report"): "\\core\\event\\course_user_report_viewed",
    ("course", "recent"): "\\core\\event\\course_viewed",
    ("user", "view"): "\\core\\event\\user_profile_viewed",
    ("user", "view all"): "\\core\\event\\user_list_viewed",
    ("user", "login"): "\\core\\event\\user_loggedin",
    ("user", "logout"): "\\core\\event\\user_loggedout",
    ("course", "login"): "\\core\\event\\user_loggedin",
    ("forum", "view discussion"): "\\mod_forum\\event\\discussion_viewed",
    ("forum", "add discussion"): "\\mod_forum\\event\\discussion_created",
    ("forum", "add post"): "\\mod_forum\\event\\post_created",
    ("forum", "update post"): "\\mod_forum\\event\\post_updated",
    ("forum", "delete post"): "\\mod_forum\\event\\post_deleted",
    ("forum", "delete discussion"): "\\mod_forum\\event\\discussion_deleted",
    ("forum", "subscribe"): "\\mod_forum\\event\\subscription_created",
    ("forum", "unsubscribe"): "\\mod_forum\\event\\subscription_deleted",
    ("forum", "search"): "\\mod_forum\\event\\course_searched",
    ("assign", "submit for grading"): "\\mod_assign\\event\\assessable_submitted",
    ("assign", "submission statement accepted"): "\\mod_assign\\event\\statement_accepted",
    ("assign", "upload"): "\\assignsubmission_file\\event\\assessable_uploaded",
    ("assign", "view submit assignment form"): "\\mod_assign\\event\\submission_form_viewed",
    ("assign", "view grading form"): "\\mod_assign\\event\\grading_form_viewed",
    ("assign", "view submission grading table"): "\\mod_assign\\event\\grading_table_viewed",
    ("assign", "grade submission"): "\\mod_assign\\event\\submission_graded",
    ("assign", "download all submissions"): "\\mod_assign\\event\\all_submissions_downloaded",
    ("quiz", "attempt"): "\\mod_quiz\\event\\attempt_started",
    ("quiz", "continue attempt"): "\\mod_quiz\\event\\attempt_viewed",
    ("quiz", "view summary"): "\\mod_quiz\\event\\attempt_summary_viewed",
    ("quiz", "close attempt"): "\\mod_quiz\\event\\attempt_submitted",
    ("quiz", "review"): "\\mod_quiz\\event\\attempt_reviewed",
    ("quiz", "report"): "\\mod_quiz\\event\\report_viewed",
    ("choice", "choose"): "\\mod_choice\\event\\answer_created",
    ("choice", "choose again"): "\\mod_choice\\event\\answer_updated",
    ("glossary", "add entry"): "\\mod_glossary\\event\\entry_created",
    ("glossary", "update entry"): "\\mod_glossary\\event\\entry_updated",
    ("wiki", "edit"): "\\mod_wiki\\event\\page_updated",
    ("feedback", "submit"): "\\mod_feedback\\event\\response_submitted",
    ("data", "add"): "\\mod_data\\event\\record_created",
    ("lesson", "start"): "\\mod_lesson\\event\\lesson_started",
    ("lesson", "end"): "\\mod_lesson\\event\\lesson_ended",
}
EARLIEST_PLAUSIBLE_EPOCH = 946684800  # 2000-01-01
# The first word of an unmapped action -> its crud letter (else r).
LEGACY_CRUD_WORDS = {"add": "c", "upload": "c", "create": "c", "new": "c", "update": "u",
                     "edit": "u", "submit": "u", "delete": "d", "remove": "d"}  # fmt: skip
CORE_LEGACY_MODULES = {
    "course", "user", "login", "admin", "role", "calendar", "blog", "message", "notes",
    "tag", "upload", "library", "group", "grade", "backup", "restore", "category",
}  # fmt: skip
READERS = {
    "parquet": "read_parquet('{path}')",
    "csv": "read_csv('{path}', header = true, all_varchar = true, nullstr = '\\N')",
}


class ExportDirectoryError(ValueError):
    """An export directory that cannot describe a Moodle site; the message says why."""


@dataclass
class ImportReport:
    rows: dict[str, int] = field(default_factory=dict)
    missing_tables: list[str] = field(default_factory=list)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    defaulted_columns: dict[str, list[str]] = field(default_factory=dict)
    legacy: LegacyReport | None = None


def find_export(directory: Path, prefix: str, table: str) -> tuple[Path, str] | None:
    for file_format in ("parquet", "csv"):
        path = directory / f"{prefix}{table}.{file_format}"
        if path.exists():
            return path, file_format
    return None


def column_expression(name: str, postgres_type: str, not_null: bool, from_csv: bool) -> str:
    """Cast to Moodle's type: text from CSV becomes numbers, failing loudly on a bad value.

    CSV writes NULL as \\N (as this project's exports do) or as an empty
    field (as psql's CSV does): an empty field is NULL in a numeric column and
    '' in a text column, which is what Moodle keeps in its text columns.
    """
    if duckdb_type(postgres_type) == "VARCHAR":
        expression = f'"{name}"'
        if not_null:
            expression = f"coalesce({expression}, '')"
    else:
        value = f"nullif(\"{name}\", '')" if from_csv else f'"{name}"'
        expression = f"cast({value} as {duckdb_type(postgres_type)})"
    return f'{expression} as "{name}"'


def import_files(
    directory: Path, duckdb_path: Path, prefix: str = "mdl_", schema: str = "public"
) -> ImportReport:
    """Load the exports in ``directory`` into ``duckdb_path``, replaced whole when every
    file has loaded (moodle_db.duckdb_files); on an error the file is as it was."""
    if not directory.is_dir():
        raise ExportDirectoryError(f"{directory} is not a directory")
    exports = {table: find_export(directory, prefix, table) for table in MOODLE_TABLES}
    legacy = find_export(directory, prefix, LEGACY_LOG_TABLE)
    absent = [table for table in REQUIRED_TABLES if exports[table] is None]
    if exports[STANDARD_LOG] is None and legacy is None:
        absent.insert(0, STANDARD_LOG)
    if absent:
        names = ", ".join(f"{prefix}{table}.parquet|csv" for table in absent)
        if STANDARD_LOG in absent:
            names += f" (or the legacy log of Moodle 2.x, {prefix}{LEGACY_LOG_TABLE})"
        raise ExportDirectoryError(f"{directory} lacks the tables every build needs: {names}")
    report = ImportReport()
    with replaced_atomically(duckdb_path) as partial:
        writer = MoodleDuckDBWriter(partial, prefix=prefix, schema=schema)
        try:
            for table, found in exports.items():
                if found is None:
                    report.missing_tables.append(table)
                    report.rows[table] = 0
                else:
                    report.rows[table] = load_table(writer, table, *found, report)
            if legacy is not None:
                report.legacy = convert_legacy_log(writer, *legacy)
                report.rows[STANDARD_LOG] += report.legacy.added
                if STANDARD_LOG in report.missing_tables:
                    report.missing_tables.remove(STANDARD_LOG)
        finally:
            writer.close()
        check_required_rows(report, exports, legacy)
    return report


def read_error(path: Path, error: duckdb.Error) -> ExportDirectoryError:
    """A file DuckDB could not read or cast, named with the first line of DuckDB's reason."""
    reason = next((line for line in str(error).splitlines() if line.strip()), "unreadable")
    return ExportDirectoryError(f"{path}: {reason.strip()}")


def export_columns(connection: duckdb.DuckDBPyConnection, path: Path, relation: str) -> list[str]:
    """The columns of one export file; an empty or unreadable file is an error naming it."""
    if path.stat().st_size == 0:
        raise ExportDirectoryError(f"{path} is empty (0 bytes): an export has its header at least")
    try:
        return [
            row[0] for row in connection.execute(f"describe select * from {relation}").fetchall()
        ]
    except duckdb.Error as error:
        raise read_error(path, error) from None


def load_table(
    writer: MoodleDuckDBWriter, table: str, path: Path, file_format: str, report: ImportReport
) -> int:
    """Insert one export into its Moodle table, cast to Moodle's types; the rows loaded."""
    connection = writer.connection
    relation = READERS[file_format].format(path=str(path).replace("'", "''"))
    available = export_columns(connection, path, relation)
    known = {name: postgres_type for name, postgres_type, *_ in MOODLE_TABLES[table]}
    not_null = {name for name, _type, required, _default in MOODLE_TABLES[table] if required}
    taken = [name for name in available if name in known]
    report.extra_columns[table] = [name for name in available if name not in known]
    report.defaulted_columns[table] = [name for name in known if name not in available]
    if "id" not in taken:
        raise ExportDirectoryError(f"{path} has no id column")
    select = ", ".join(
        column_expression(name, known[name], name in not_null, file_format == "csv")
        for name in taken
    )
    columns = ", ".join(f'"{name}"' for name in taken)
    target = writer.table_name(table)
    try:
        connection.execute(f"insert into {target} ({columns}) select {select} from {relation}")
    except duckdb.Error as error:
        raise read_error(path, error) from None
    return connection.execute(f"select count(*) from {target}").fetchone()[0]


def check_required_rows(
    report: ImportReport,
    exports: dict[str, tuple[Path, str] | None],
    legacy: tuple[Path, str] | None,
) -> None:
    """The tables every build needs hold rows: a header-only export of one is an error."""
    for table in (STANDARD_LOG, *REQUIRED_TABLES):
        if report.rows[table] == 0:
            files = [
                found[0]
                for found in (exports[table], legacy if table == STANDARD_LOG else None)
                if found
            ]
            names = " and ".join(str(path) for path in files)
            raise ExportDirectoryError(
                f"{names} has no rows: a Moodle site always has {table} rows"
            )


@dataclass
class LegacyReport:
    read: int = 0
    added: int = 0
    mapped: int = 0
    after_standard_log: int = 0
    unknown: dict[str, int] = field(default_factory=dict)


def convert_legacy_log(writer: MoodleDuckDBWriter, path: Path, file_format: str) -> LegacyReport:
    """Append a Moodle 2.x mdl_log export to logstore_standard_log (see the docstring)."""
    connection = writer.connection
    relation = READERS[file_format].format(path=str(path).replace("'", "''"))
    available = set(export_columns(connection, path, relation))
    missing = [name for name, *_ in LEGACY_LOG_COLUMNS if name not in available and name != "id"]
    if missing:
        raise ExportDirectoryError(f"{path}: a legacy log export lacks {', '.join(missing)}")
    casts = ", ".join(
        column_expression(name, kind, True, file_format == "csv")
        for name, kind, *_ in LEGACY_LOG_COLUMNS
        if name in available
    )
    try:
        connection.execute(f"create temp table legacy_log as select {casts} from {relation}")
    except duckdb.Error as error:
        raise read_error(path, error) from None
    catalogue = load_event_catalogue()
    mapping = pd.DataFrame(
        [
            (module, action, name, catalogue[name].component, catalogue[name].action,
             catalogue[name].target, catalogue[name].object_table, catalogue[name].crud,
             catalogue[name].edulevel)
            for (module, action), name in LEGACY_EVENTS.items()
        ],
        columns=["module", "legacy_action", "eventname", "component", "action", "target",
                 "objecttable", "crud", "edulevel"],
    )  # fmt: skip
    connection.register("legacy_events", mapping)
    standard = writer.table_name(STANDARD_LOG)
    # The standard log's start, past clock errors (times before 2000).
    first_standard, last_id = connection.execute(
        f"select min(timecreated) filter (where timecreated >= {EARLIEST_PLAUSIBLE_EPOCH}), "
        f"coalesce(max(id), 0) from {standard}"
    ).fetchone()
    report = LegacyReport(read=connection.execute("select count(*) from legacy_log").fetchone()[0])
    keep = "true" if first_standard is None else f"l.time < {int(first_standard)}"
    report.after_standard_log = connection.execute(
        f"select count(*) from legacy_log l where not ({keep})"
    ).fetchone()[0]
    connection.execute(
        f"insert into {standard} select * from ({legacy_select(writer, keep, last_id)})"
    )
    report.added = report.read - report.after_standard_log
    report.mapped = connection.execute(
        f"select count(*) from legacy_log l join legacy_events m "
        f"on m.module = l.module and m.legacy_action = l.action where {keep}"
    ).fetchone()[0]
    report.unknown = dict(
        connection.execute(
            f"select l.module || ' ' || l.action, count(*) from legacy_log l "
            "left join legacy_events m on m.module = l.module and m.legacy_action = l.action "
            f"where m.eventname is null and {keep} group by 1 order by 2 desc, 1"
        ).fetchall()
    )
    connection.unregister("legacy_events")
    connection.execute("drop table legacy_log")
    return report


def legacy_select(writer: MoodleDuckDBWriter, keep: str, last_id: int) -> str:
    """logstore_standard_log's columns, in order, from the legacy rows kept."""
    word = "lower(split_part(l.action, ' ', 1))"
    crud_words = " ".join(f"when '{w}' then '{c}'" for w, c in LEGACY_CRUD_WORDS.items())
    core = ", ".join(f"'{module}'" for module in sorted(CORE_LEGACY_MODULES))
    slug = "regexp_replace(lower(l.module || '_' || l.action), '[^a-z0-9]+', '_', 'g')"
    level = "case when l.cmid > 0 then 70 when l.course > 0 then 50 else 10 end"
    instance = "case when l.cmid > 0 then l.cmid when l.course > 0 then l.course else 0 end"
    return f"""
        select
            {last_id} + row_number() over (order by l.time, l.id) as id,
            coalesce(m.eventname, '\\unknown\\legacy\\' || {slug}) as eventname,
            coalesce(m.component, case when l.module in ({core}) then 'core'
                else 'mod_' || l.module end) as component,
            coalesce(m.action, {slug}) as action,
            coalesce(m.target, 'legacy_log') as target,
            m.objecttable,
            case
                when m.objecttable = modules.name then cm.instance
                when m.objecttable is not null then try_cast(l.info as bigint)
            end as objectid,
            coalesce(m.crud, case {word} {crud_words} else 'r' end) as crud,
            coalesce(m.edulevel, 0) as edulevel,
            coalesce(x.id, 0) as contextid,
            {level} as contextlevel,
            {instance} as contextinstanceid,
            l.userid,
            l.course as courseid,
            cast(null as bigint) as relateduserid,
            0 as anonymous,
            to_json({{'legacy_module': l.module, 'legacy_action': l.action,
                      'legacy_url': l.url, 'legacy_info': l.info}})::varchar as other,
            l.time as timecreated,
            'web' as origin,
            nullif(l.ip, '') as ip,
            cast(null as bigint) as realuserid
        from legacy_log as l
        left join legacy_events as m
            on m.module = l.module and m.legacy_action = l.action
        left join {writer.table_name("course_modules")} as cm
            on cm.id = l.cmid
        left join {writer.table_name("modules")} as modules
            on modules.id = cm.module
        left join {writer.table_name("context")} as x
            on x.contextlevel = {level} and x.instanceid = {instance}
        where {keep}
    """


def main(argv: list[str] | None = None) -> int:
    parser = cli_options.parser(PROG, __doc__.split("\n\n")[1].replace("\n", " "))
    parser.add_argument(
        "--from-dir",
        type=Path,
        required=True,
        help="directory of <prefix><table>.parquet|csv files",
    )
    cli_options.add_source_duckdb(parser, "--duckdb", "DuckDB file to (re)create")
    cli_options.add_moodle_tables(parser, "of the tables (the prefix also names the files)")
    args = parser.parse_args(argv)
    try:
        cli_options.input_directory(args.from_dir, "--from-dir")
        cli_options.output_duckdb(args.duckdb, "--duckdb")
        report = import_files(args.from_dir, args.duckdb, args.prefix, args.schema)
    except (ValueError, OSError, duckdb.Error) as error:
        return cli_options.fail_unchanged(PROG, error, args.duckdb)
    for table in report.missing_tables:
        cli_options.warn(PROG, f"warning: no {args.prefix}{table} file; the table stays empty")
    for table, columns in report.extra_columns.items():
        if columns:
            names = ", ".join(columns)
            cli_options.warn(PROG, f"note: {args.prefix}{table}: columns not read: {names}")
    if report.legacy is not None:
        legacy = report.legacy
        print(
            f"{PROG}: legacy {args.prefix}log: {legacy.read:,} rows read, "
            f"{legacy.added:,} added to logstore_standard_log ({legacy.mapped:,} as standard "
            f"events, {legacy.added - legacy.mapped:,} unknown), "
            f"{legacy.after_standard_log:,} left out (the standard log holds their time)"
        )
        for name, count in legacy.unknown.items():
            print(f"  unknown legacy action: {name} ({count:,})")
    loaded = sum(report.rows.values())
    tables = len(report.rows) - len(report.missing_tables)
    print(f"{PROG}: {loaded:,} rows in {tables} tables -> {args.duckdb}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
