"""CREATE TABLE for Moodle's tables in each engine's dialect, and the names it accepts.

A Dialect says how an engine spells Moodle's column types and quotes a name:
PostgreSQL keeps Moodle's own types, DuckDB (the file sink, and the reader of
every source) gets the types that carry the same values. Another engine adds a
Dialect here (MySQL/MariaDB: its types, backquotes) and keeps what only it has,
such as PostgreSQL's sequences and index options (postgres/schema.py), in its
own subpackage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from moodle_analytics.moodle_db.tables import MOODLE_TABLES

# Schemas, table prefixes and role names the project creates or reads: lowercase,
# so they need no quoting in dbt's SQL or in a shell.
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def is_identifier(name: str) -> bool:
    return IDENTIFIER.fullmatch(name) is not None


def is_text_type(moodle_type: str) -> bool:
    return moodle_type.startswith("varchar") or moodle_type == "text"


def duckdb_type(moodle_type: str) -> str:
    """The DuckDB type that carries a Moodle column's values unchanged."""
    if is_text_type(moodle_type):
        return "VARCHAR"
    if moodle_type.startswith("numeric"):
        return moodle_type.replace("numeric", "DECIMAL")
    return {"bigint": "BIGINT", "integer": "INTEGER", "smallint": "SMALLINT"}[moodle_type]


def _as_declared(moodle_type: str) -> str:
    return moodle_type


@dataclass(frozen=True)
class Dialect:
    """How one engine writes Moodle's columns: its column types and its quoted names."""

    name: str
    column_type: Callable[[str], str]
    quote_mark: str = '"'

    def quote(self, name: str) -> str:
        mark = self.quote_mark
        return mark + name.replace(mark, mark + mark) + mark

    def qualified(self, schema: str, prefix: str, table: str) -> str:
        """A Moodle table's name in a schema: "public"."mdl_user"."""
        return f"{self.quote(schema)}.{self.quote(prefix + table)}"


POSTGRES = Dialect("postgres", _as_declared)
DUCKDB = Dialect("duckdb", duckdb_type)


def default_literal(moodle_type: str, default: str) -> str:
    """A column default as SQL: text quoted, numbers as written."""
    if is_text_type(moodle_type):
        return "'" + default.replace("'", "''") + "'"
    return default


def create_table_sql(
    table: str, dialect: Dialect = POSTGRES, prefix: str = "mdl_", schema: str = "public"
) -> str:
    """CREATE TABLE with Moodle's columns, types, defaults and NOT NULL; keys come later."""
    columns = []
    for name, moodle_type, not_null, default in MOODLE_TABLES[table]:
        column = f"{dialect.quote(name)} {dialect.column_type(moodle_type)}"
        if default is not None:
            column += f" DEFAULT {default_literal(moodle_type, default)}"
        if not_null:
            column += " NOT NULL"
        columns.append(column)
    body = ",\n    ".join(columns)
    return f"CREATE TABLE {dialect.qualified(schema, prefix, table)} (\n    {body}\n)"
