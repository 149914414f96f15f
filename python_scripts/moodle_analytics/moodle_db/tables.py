"""Moodle's tables, columns, keys and indexes, as Moodle 5.1 installs them.

Read once from two CSV files beside this module (facts from Moodle's install.xml):

* moodle_columns.csv: table, column, type, not_null, default (``\\N``: none),
  int_length. Types are spelled as Moodle installs them on PostgreSQL (bigint ids
  and epoch times, varchar(n), text, numeric(10,5) grades, smallint flags); ddl.py
  maps them to each engine's own. int_length is an integer column's XMLDB length
  (``int(1)``, ``int(10)``), which picks its MySQL type (TINYINT to BIGINT) where
  PostgreSQL only knows three sizes; blank where install.xml's length is not on
  record, and ddl.py then keeps PostgreSQL's size.
* moodle_indexes.csv: table, index name without the table prefix (Moodle adds
  it), kind (primary, unique or index), columns (space-separated), and the
  operator class PostgreSQL adds where Moodle searches with LIKE 'x%'.

Moodle declares foreign keys in XMLDB only; no database holds them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).parent
NO_DEFAULT = "\\N"

# (column, type as on PostgreSQL, not null, default or None)
Column = tuple[str, str, bool, str | None]


class MoodleIndex(NamedTuple):
    name: str
    columns: tuple[str, ...]
    unique: bool
    # Moodle adds a varchar_pattern_ops twin for columns it searches with LIKE 'x%'.
    opclass: str | None = None


class MoodleKeys(NamedTuple):
    primary_key: str
    indexes: list[MoodleIndex]


def _rows(file_name: str) -> list[dict[str, str]]:
    with (HERE / file_name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _read_tables() -> tuple[dict[str, list[Column]], dict[tuple[str, str], int]]:
    tables: dict[str, list[Column]] = {}
    int_lengths: dict[tuple[str, str], int] = {}
    for row in _rows("moodle_columns.csv"):
        default = None if row["default"] == NO_DEFAULT else row["default"]
        column = (row["column"], row["type"], row["not_null"] == "true", default)
        tables.setdefault(row["table"], []).append(column)
        if row["int_length"]:
            int_lengths[(row["table"], row["column"])] = int(row["int_length"])
    return tables, int_lengths


def _read_keys() -> dict[str, MoodleKeys]:
    primary: dict[str, str] = {}
    indexes: dict[str, list[MoodleIndex]] = {}
    for row in _rows("moodle_indexes.csv"):
        if row["kind"] == "primary":
            primary[row["table"]] = row["index"]
            continue
        index = MoodleIndex(
            row["index"],
            tuple(row["columns"].split()),
            row["kind"] == "unique",
            row["opclass"] or None,
        )
        indexes.setdefault(row["table"], []).append(index)
    return {table: MoodleKeys(name, indexes.get(table, [])) for table, name in primary.items()}


# table -> columns in Moodle's order; (table, column) -> XMLDB length of an integer
MOODLE_TABLES, MOODLE_INT_LENGTHS = _read_tables()
# table -> primary key and indexes, in the order Moodle creates them
MOODLE_KEYS: dict[str, MoodleKeys] = _read_keys()

# The tables every build needs: the log, people, courses and who is enrolled in which
# role. The others belong to activity plugins (quiz, assign, forum, feedback, ...) or
# features a site may not use; a build without one warns and leaves its rows empty.
MOODLE_REQUIRED_TABLES = (
    "logstore_standard_log",
    "user",
    "course",
    "context",
    "role",
    "role_assignments",
    "enrol",
    "user_enrolments",
)


def moodle_tables_missing(present: Iterable[str], prefix: str) -> tuple[list[str], list[str]]:
    """Of the Moodle tables a login sees (``present``, without prefix): those every build
    needs that are missing, and all that are missing, each with ``prefix``."""
    present = set(present)
    required = [prefix + table for table in MOODLE_REQUIRED_TABLES if table not in present]
    missing = [prefix + table for table in MOODLE_TABLES if table not in present]
    return required, missing


def optional_tables_line(missing: list[str]) -> str:
    """What a connection check says of the optional Moodle tables a site lacks."""
    return (
        f"optional Moodle tables missing: {', '.join(missing)} (a plugin or feature this site "
        "does not use); the models reading them get no rows"
    )


# Moodle 2.0 to 2.6's log (logstore_legacy after 2.7): read by moodle-import-files,
# which turns it into logstore_standard_log rows; never written by the project.
LEGACY_LOG_TABLE = "log"
LEGACY_LOG_COLUMNS: list[Column] = [
    ("id", "bigint", True, None),
    ("time", "bigint", True, "0"),
    ("userid", "bigint", True, "0"),
    ("ip", "varchar(45)", True, ""),
    ("course", "bigint", True, "0"),
    ("module", "varchar(20)", True, ""),
    ("cmid", "bigint", True, "0"),
    ("action", "varchar(40)", True, ""),
    ("url", "varchar(100)", True, ""),
    ("info", "varchar(255)", True, ""),
]
