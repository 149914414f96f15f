"""Read-only access to the marts a dbt target built, for the dashboard and the message lists.

Two backends behind one reader: the DuckDB file of the `duckdb` target, and the
PostgreSQL database of the `postgres` target (the Moodle database, MOODLE_PG_*) or of
the `duckdb_pg` target (ANALYTICS_PG_*, each falling back to its MOODLE_PG_* twin), the
login read from the same environment variables the targets use. Both answer the same
SQL (it is kept to what both engines share) with the same Python values (decimals as
floats, floats to 12 significant digits, dates as timestamps in frames), so a page or a
list is the same whichever target built the marts.

The marts are found by table name in the schemas dbt gives them: the target's schema
(`analytics` in profiles.yml) followed by each marts folder's (`_marts`, `_ml`,
`_actions` in dbt_project.yml). A Scope narrows every table to some courses (a table
without course_id but with learner_id, to the learners of those courses) and, where a
table has staff_id, to one teacher's rows.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from moodle_analytics import cli_options

TARGETS = ("duckdb", "postgres", "duckdb_pg")
# profiles.yml gives every target the schema "analytics"; dbt_project.yml puts the marts'
# folders in <schema>_marts, <schema>_ml and <schema>_actions.
TARGET_SCHEMA = "analytics"
MART_SCHEMAS = tuple(f"{TARGET_SCHEMA}_{folder}" for folder in ("marts", "ml", "actions"))
# The login of each PostgreSQL target: (variable prefix, fallback prefix), as profiles.yml.
POSTGRES_LOGINS = {"postgres": ("MOODLE_PG", None), "duckdb_pg": ("ANALYTICS_PG", "MOODLE_PG")}
# The table a course scope reads a learner's courses from.
LEARNER_COURSES = "fct_learner_courses"


class WarehouseError(RuntimeError):
    """The marts cannot be read (no file, no server, wrong login, nothing built, ...)."""


@dataclass(frozen=True)
class Target:
    """Where a dbt target keeps its marts: the DuckDB file (``warehouse``, with the Moodle
    ``source`` attached when given) or, for postgres and duckdb_pg, the PostgreSQL
    database named by the target's environment variables (``environ``, default
    os.environ)."""

    name: str = "duckdb"
    warehouse: Path | None = None
    source: Path | None = None
    environ: Mapping[str, str] | None = None

    @property
    def is_postgres(self) -> bool:
        return self.name in POSTGRES_LOGINS

    def build_command(self) -> str:
        return "dbt build" if self.name == "duckdb" else f"dbt build --target {self.name}"


@dataclass(frozen=True)
class Scope:
    """Which courses a page shows (None: all) and whose rows (a teacher's staff_id)."""

    course_ids: tuple[int, ...] | None = None
    staff_id: str | None = None

    def with_course(self, course_id: int) -> Scope:
        return replace(self, course_ids=(int(course_id),))


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# Floats keep this many significant digits, far beyond any shown: engines sum in different
# orders, and a sum that is exactly 22.75 on one can be 22.749999999999996 on the other,
# which would print as 22.7 instead of 22.8.
FLOAT_DIGITS = 12


def _python_value(value: object) -> object:
    """Decimals (PostgreSQL's averages, DuckDB's decimal columns) as floats, and floats to
    FLOAT_DIGITS significant digits, so that both engines give the same values."""
    if isinstance(value, decimal.Decimal | float):
        return float(f"{value:.{FLOAT_DIGITS}g}")
    return value


def _frame(names: Sequence[str], rows: Sequence[tuple]) -> pd.DataFrame:
    """A frame built the same way from either engine's rows; dates and timestamps become
    pandas timestamps."""
    frame = pd.DataFrame.from_records(
        [tuple(_python_value(value) for value in row) for row in rows], columns=list(names)
    )
    for column in frame.columns:
        first = frame[column].first_valid_index()
        if first is not None and isinstance(frame[column][first], datetime.date):
            frame[column] = pd.to_datetime(frame[column])
    return frame


class _DuckDBReader:
    """A DuckDB warehouse file, opened read-only."""

    errors: tuple[type[Exception], ...] = (duckdb.Error,)

    def __init__(self, warehouse: Path, source: Path | None) -> None:
        warehouse = Path(warehouse)
        self.where = str(warehouse)
        if not warehouse.is_file():
            raise WarehouseError(
                f"no warehouse at {warehouse}: run `dbt build` first (or pass --warehouse)"
            )
        try:
            self.connection = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.Error as error:
            raise WarehouseError(
                f"cannot open {warehouse} read-only ({error}); is a dbt build still writing it?"
            ) from error
        # The page reads tables only; the Moodle source is attached as dbt attaches it
        # ("moodle") so that views over it also resolve when someone queries them.
        if source is not None and Path(source).is_file():
            try:
                self.connection.execute(f"attach '{Path(source)}' as moodle (read_only)")
            except duckdb.Error as error:
                self.connection.close()
                raise WarehouseError(
                    f"cannot attach the Moodle source {source}: {error}"
                ) from error

    def rows(self, sql: str) -> tuple[list[str], list[tuple]]:
        cursor = self.connection.execute(sql)
        return [column[0] for column in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self.connection.close()


class _PostgresReader:
    """The PostgreSQL database of a postgres or duckdb_pg target, in a read-only session."""

    def __init__(self, target: Target) -> None:
        # Imported here: a DuckDB-only user needs neither psycopg2 nor the server checks.
        import psycopg2

        from moodle_analytics.postgres.check import (
            ConnectionSettings,
            ConnectionSettingsError,
            connect,
        )

        self.errors = (psycopg2.Error,)
        prefix, fallback = POSTGRES_LOGINS[target.name]
        try:
            settings = ConnectionSettings.from_env(prefix, fallback, environ=target.environ)
            self.connection = connect(settings)
        except ConnectionSettingsError as error:
            raise WarehouseError(str(error)) from None
        self.where = f"{settings.describe()} ({settings.var('dbname')})"
        self.connection.set_session(readonly=True, autocommit=True)

    def rows(self, sql: str) -> tuple[list[str], list[tuple]]:
        with self.connection.cursor() as cursor:
            # No parameters: psycopg2 leaves a % in the text as it is.
            cursor.execute(sql)
            return [column.name for column in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self.connection.close()


@dataclass
class _Catalogue:
    """The marts found: each table's quoted relation and columns, by lowercase name."""

    relations: dict[str, str] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)


class Warehouse:
    """The marts of one dbt target, found by table name in the marts' schemas, read
    through a Scope (all courses by default)."""

    def __init__(
        self,
        reader: _DuckDBReader | _PostgresReader,
        target: Target,
        schemas: Sequence[str] = MART_SCHEMAS,
        scope: Scope | None = None,
        catalogue: _Catalogue | None = None,
    ) -> None:
        self.reader, self.target, self.schemas = reader, target, tuple(schemas)
        self.scope = scope or Scope()
        self.catalogue = catalogue or self._find_marts()
        # The tables read through this scope, for the dashboard's reuse of its sections.
        self.tables_read: set[str] = set()

    @classmethod
    def open(cls, target: Target, schemas: Sequence[str] = MART_SCHEMAS) -> Warehouse:
        """The marts of ``target``, or WarehouseError saying what to fix."""
        if target.name not in TARGETS:
            raise WarehouseError(
                f"target {target.name!r}: the marts are read from {', '.join(TARGETS)}"
            )
        if target.is_postgres:
            reader: _DuckDBReader | _PostgresReader = _PostgresReader(target)
        else:
            reader = _DuckDBReader(target.warehouse or Path(), target.source)
        try:
            return cls(reader, target, schemas)
        except BaseException:
            reader.close()
            raise

    def _find_marts(self) -> _Catalogue:
        listed = ", ".join(_sql_text(schema) for schema in self.schemas)
        _, rows = self._run(
            f"""
            select table_schema, table_name, column_name
            from information_schema.columns
            where table_catalog = current_database() and table_schema in ({listed})
            order by table_schema, table_name, ordinal_position
            """
        )
        catalogue = _Catalogue()
        for schema, table, column in rows:
            name = table.lower()
            relation = f'"{schema}"."{table}"'
            # The first schema wins, in the order of MART_SCHEMAS.
            if catalogue.relations.setdefault(name, relation) == relation:
                catalogue.columns.setdefault(name, []).append(column)
        if not catalogue.relations:
            elsewhere = (
                "--target and the login's database and grants"
                if self.target.is_postgres
                else "--warehouse"
            )
            raise WarehouseError(
                f"no marts in {', '.join(self.schemas)} of {self.reader.where}: run "
                f"`{self.target.build_command()}` first (or check {elsewhere})"
            )
        return catalogue

    def scoped(self, scope: Scope) -> Warehouse:
        """The same marts read through another scope (one connection for all)."""
        return Warehouse(self.reader, self.target, self.schemas, scope, self.catalogue)

    def whole_site(self) -> Warehouse:
        """The same marts, every course and everyone's rows: for what a narrowed page
        compares its courses with."""
        return self.scoped(Scope())

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        return self.reader.where

    @property
    def relations(self) -> dict[str, str]:
        return self.catalogue.relations

    def has(self, *tables: str) -> bool:
        return all(table.lower() in self.relations for table in tables)

    def missing(self, *tables: str) -> list[str]:
        return [table for table in tables if table.lower() not in self.relations]

    def columns(self, table: str) -> list[str]:
        return list(self.catalogue.columns[table.lower()])

    def is_course_scoped(self, table: str) -> bool:
        """Whether choosing courses narrows the table (course_id, or learner_id)."""
        columns = self.catalogue.columns.get(table.lower(), [])
        return "course_id" in columns or ("learner_id" in columns and self.has(LEARNER_COURSES))

    def scope_key(self, tables: Sequence[str]) -> tuple[str, ...]:
        """What the scope does to each of ``tables``: two scopes with the same key read the
        same rows of them."""
        return tuple(self._scope_filter(table) if self.has(table) else "" for table in tables)

    def _scope_filter(self, table: str) -> str:
        """The where-clause that narrows ``table`` to the scope ("" for none)."""
        columns = self.catalogue.columns[table.lower()]
        conditions = []
        course_ids = self.scope.course_ids
        if course_ids is not None:
            listed = ", ".join(str(int(course_id)) for course_id in course_ids) or "null"
            if "course_id" in columns:
                conditions.append(f"course_id in ({listed})")
            elif "learner_id" in columns and self.has(LEARNER_COURSES):
                conditions.append(
                    f"learner_id in (select learner_id from {self.relations[LEARNER_COURSES]} "
                    f"where course_id in ({listed}))"
                )
        if self.scope.staff_id is not None and "staff_id" in columns:
            conditions.append(f"staff_id = {_sql_text(self.scope.staff_id)}")
        return " and ".join(conditions)

    def _sql(self, sql: str, tables: Mapping[str, str]) -> str:
        """sql with {name} placeholders replaced by the tables' relations; a table the scope
        narrows becomes a common table expression put in front (a subquery would need an
        alias on PostgreSQL before 16)."""
        names, expressions = {}, {}
        for key, table in tables.items():
            name = table.lower()
            self.tables_read.add(name)
            condition = self._scope_filter(name)
            if condition:
                names[key] = f"scoped__{name}"
                expressions[name] = (
                    f"scoped__{name} as (select * from {self.relations[name]} where {condition})"
                )
            else:
                names[key] = self.relations[name]
        text = sql.format(**names)
        if not expressions:
            return text
        ctes = ",\n".join(expressions.values())
        leading_with = re.match(r"\s*with\s", text, flags=re.IGNORECASE)
        if leading_with:
            return f"with {ctes},\n{text[leading_with.end() :]}"
        return f"with {ctes}\n{text}"

    def _run(self, sql: str) -> tuple[list[str], list[tuple]]:
        try:
            return self.reader.rows(sql)
        except self.reader.errors as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise WarehouseError(f"reading the marts in {self.where}: {first_line}") from None

    def frame(self, sql: str, **tables: str) -> pd.DataFrame:
        """Run sql with {name} placeholders replaced by the relations of the named tables,
        narrowed to the scope."""
        return _frame(*self._run(self._sql(sql, tables)))

    def records(self, sql: str, **tables: str) -> list[dict]:
        """frame(), as one dict of Python values per row."""
        names, rows = self._run(self._sql(sql, tables))
        return [
            dict(zip(names, (_python_value(value) for value in row), strict=True)) for row in rows
        ]

    def scalar(self, sql: str, **tables: str) -> object:
        _, rows = self._run(self._sql(sql, tables))
        return _python_value(rows[0][0]) if rows else None


def target_from_args(args: argparse.Namespace, source: Path | None = None) -> Target:
    """The Target that add_target_options' options name, its paths checked first
    (cli_options.InputError); the env file's export lines (as moodle-pg writes them)
    override the environment."""
    environ: dict[str, str] = dict(os.environ)
    if args.env_file is not None:
        from moodle_analytics.postgres.server import read_env_file

        environ.update(read_env_file(cli_options.input_file(args.env_file, "--env-file")))
    if args.target == "duckdb":
        cli_options.input_warehouse(args.warehouse)
    return Target(args.target, warehouse=args.warehouse, source=source, environ=environ)


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """--target, --warehouse and --env-file: which dbt target's marts to read."""
    parser.add_argument(
        "--target",
        default=os.environ.get("DBT_TARGET") or "duckdb",
        metavar="{" + ",".join(TARGETS) + "}",
        help="the profiles.yml target that built the marts (env DBT_TARGET): duckdb reads "
        "--warehouse; postgres reads MOODLE_PG_*; duckdb_pg reads ANALYTICS_PG_* (each "
        "falling back to MOODLE_PG_*)",
    )
    cli_options.add_warehouse(parser)
    cli_options.add_env_file(
        parser,
        None,
        "postgres targets: take the login from this file of export lines, as moodle-pg "
        "writes them (default: the environment)",
    )
