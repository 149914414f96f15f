"""CREATE TABLE for Moodle's tables in each engine's dialect, and the names it accepts.

A Dialect says how an engine spells Moodle's column types, quotes a name and
closes a CREATE TABLE: PostgreSQL keeps Moodle's own types, DuckDB (the file
sink, and the reader of every source) gets the types that carry the same values,
MySQL/MariaDB gets the types Moodle's XMLDB writes there (TINYINT to BIGINT by
the column's declared length, LONGTEXT, DECIMAL), backquotes, the auto-increment
primary key inside the table and InnoDB with utf8mb4_unicode_ci. What only one
engine has, such as PostgreSQL's sequences and index options (postgres/schema.py)
or MySQL's indexes (mysql/schema.py), stays in its own subpackage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from moodle_analytics.moodle_db.tables import MOODLE_INT_LENGTHS, MOODLE_TABLES

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


def mysql_type(moodle_type: str, int_length: int | None = None) -> str:
    """The MySQL/MariaDB type Moodle's XMLDB gives a column (mysql_sql_generator):
    integers by their declared length, text as LONGTEXT, numbers as DECIMAL."""
    if moodle_type == "text":
        return "LONGTEXT"
    if moodle_type.startswith("varchar"):
        return moodle_type.replace("varchar", "VARCHAR")
    if moodle_type.startswith("numeric"):
        return moodle_type.replace("numeric", "DECIMAL")
    if int_length is None:
        # Length not on record: PostgreSQL's size, which holds the same values.
        return {"bigint": "BIGINT(10)", "integer": "INT", "smallint": "SMALLINT"}[moodle_type]
    for longest, name in ((2, "TINYINT"), (4, "SMALLINT"), (6, "MEDIUMINT"), (9, "INT")):
        if int_length <= longest:
            return f"{name}({int_length})"
    return f"BIGINT({int_length})"


def _as_declared(moodle_type: str, _int_length: int | None) -> str:
    return moodle_type


def _duckdb_column(moodle_type: str, _int_length: int | None) -> str:
    return duckdb_type(moodle_type)


@dataclass(frozen=True)
class Dialect:
    """How one engine writes Moodle's columns: its column types (from Moodle's type
    and XMLDB length), its quoted names, and what its CREATE TABLE adds: the
    auto-increment primary key (``id_default``) and the table's options."""

    name: str
    column_type: Callable[[str, int | None], str]
    quote_mark: str = '"'
    # Where the engine declares Moodle's id inside CREATE TABLE (MySQL), its column
    # suffix; None when the key and the id's default come later (postgres/schema.py).
    id_default: str | None = None
    table_options: str = ""

    def quote(self, name: str) -> str:
        mark = self.quote_mark
        return mark + name.replace(mark, mark + mark) + mark

    def qualified(self, schema: str, prefix: str, table: str) -> str:
        """A Moodle table's name in a schema: "public"."mdl_user"."""
        return f"{self.quote(schema)}.{self.quote(prefix + table)}"


POSTGRES = Dialect("postgres", _as_declared)
DUCKDB = Dialect("duckdb", _duckdb_column)
# Moodle's installer on MySQL/MariaDB: InnoDB, utf8mb4 with utf8mb4_unicode_ci, the
# DYNAMIC row format (long index keys), ids from AUTO_INCREMENT.
MYSQL = Dialect(
    "mysql",
    mysql_type,
    quote_mark="`",
    id_default="AUTO_INCREMENT",
    table_options=(
        "ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci "
        "ROW_FORMAT = DYNAMIC"
    ),
)


def default_literal(moodle_type: str, default: str) -> str:
    """A column default as SQL: text quoted, numbers as written."""
    if is_text_type(moodle_type):
        return "'" + default.replace("'", "''") + "'"
    return default


def create_table_sql(
    table: str, dialect: Dialect = POSTGRES, prefix: str = "mdl_", schema: str = "public"
) -> str:
    """CREATE TABLE with Moodle's columns, types, defaults and NOT NULL; the other keys
    come later, and so does the primary key unless the dialect declares it here."""
    columns = []
    for name, moodle_type, not_null, default in MOODLE_TABLES[table]:
        sql_type = dialect.column_type(moodle_type, MOODLE_INT_LENGTHS.get((table, name)))
        column = f"{dialect.quote(name)} {sql_type}"
        if default is not None:
            column += f" DEFAULT {default_literal(moodle_type, default)}"
        if not_null:
            column += " NOT NULL"
        if name == "id" and dialect.id_default:
            column += f" {dialect.id_default}"
        columns.append(column)
    if dialect.id_default:
        columns.append(f"PRIMARY KEY ({dialect.quote('id')})")
    body = ",\n    ".join(columns)
    options = f" {dialect.table_options}" if dialect.table_options else ""
    return f"CREATE TABLE {dialect.qualified(schema, prefix, table)} (\n    {body}\n){options}"
