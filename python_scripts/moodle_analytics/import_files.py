"""moodle-import-files: load exports of Moodle's tables into the project's source file.

Reads one Parquet or CSV file per table (named <prefix><table>.parquet or
.csv, e.g. mdl_user.parquet) from a directory and writes them into a DuckDB
file with Moodle's column types, so `dbt build` reads them as it reads a
Moodle database. Columns are matched by name: columns Moodle versions added
or dropped are tolerated (missing ones take Moodle's default, extra ones are
reported and left out). Tables the project needs but the directory lacks stay
empty, with a warning; the log, users and courses are required.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from moodle_analytics.moodle_db.ddl import duckdb_type
from moodle_analytics.moodle_db.tables import MOODLE_TABLES
from moodle_analytics.moodle_sink import MoodleDuckDBWriter

REQUIRED_TABLES = ("logstore_standard_log", "user", "course", "context", "role_assignments")
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
    if not directory.is_dir():
        raise ExportDirectoryError(f"{directory} is not a directory")
    exports = {table: find_export(directory, prefix, table) for table in MOODLE_TABLES}
    absent = [table for table in REQUIRED_TABLES if exports[table] is None]
    if absent:
        names = ", ".join(f"{prefix}{table}.parquet|csv" for table in absent)
        raise ExportDirectoryError(f"{directory} lacks the tables every build needs: {names}")
    report = ImportReport()
    writer = MoodleDuckDBWriter(duckdb_path, prefix=prefix, schema=schema)
    connection: duckdb.DuckDBPyConnection = writer.connection
    try:
        for table, found in exports.items():
            if found is None:
                report.missing_tables.append(table)
                report.rows[table] = 0
                continue
            path, file_format = found
            relation = READERS[file_format].format(path=str(path).replace("'", "''"))
            available = [
                row[0]
                for row in connection.execute(f"describe select * from {relation}").fetchall()
            ]
            known = {name: postgres_type for name, postgres_type, *_ in MOODLE_TABLES[table]}
            not_null = {
                name for name, _type, required, _default in MOODLE_TABLES[table] if required
            }
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
                connection.execute(
                    f"insert into {target} ({columns}) select {select} from {relation}"
                )
            except duckdb.Error as error:
                raise ExportDirectoryError(f"{path}: {error}") from None
            report.rows[table] = connection.execute(
                f"select count(*) from {writer.table_name(table)}"
            ).fetchone()[0]
    finally:
        writer.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="moodle-import-files", description=__doc__.split("\n\n")[1].replace("\n", " ")
    )
    parser.add_argument(
        "--from-dir",
        type=Path,
        required=True,
        help="directory of <prefix><table>.parquet|csv files",
    )
    parser.add_argument(
        "--duckdb",
        type=Path,
        default=Path("data/moodle_source.duckdb"),
        help="DuckDB file to (re)create",
    )
    parser.add_argument(
        "--prefix", default="mdl_", help="table prefix of the file names and tables"
    )
    parser.add_argument(
        "--schema", default="public", help="schema of the tables in the DuckDB file"
    )
    args = parser.parse_args(argv)
    args.duckdb.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = import_files(args.from_dir, args.duckdb, args.prefix, args.schema)
    except (ExportDirectoryError, ValueError, OSError) as error:
        print(f"moodle-import-files: error: {error}", file=sys.stderr)
        return 2
    for table in report.missing_tables:
        print(
            f"moodle-import-files: warning: no {args.prefix}{table} file; the table stays empty",
            file=sys.stderr,
        )
    for table, columns in report.extra_columns.items():
        if columns:
            names = ", ".join(columns)
            print(
                f"moodle-import-files: note: {args.prefix}{table}: columns not read: {names}",
                file=sys.stderr,
            )
    loaded = sum(report.rows.values())
    tables = len(report.rows) - len(report.missing_tables)
    print(f"moodle-import-files: {loaded:,} rows in {tables} tables -> {args.duckdb}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
