"""Moodle's tables, columns, keys and indexes, as Moodle 5.1 installs them.

Read once from two CSV files beside this module (facts from Moodle's install.xml):

* moodle_columns.csv: table, column, type, not_null, default (``\\N``: none).
  Types are spelled as Moodle installs them on PostgreSQL (bigint ids and epoch
  times, varchar(n), text, numeric(10,5) grades, smallint flags); ddl.py maps
  them to each engine's own.
* moodle_indexes.csv: table, index name without the table prefix (Moodle adds
  it), kind (primary, unique or index), columns (space-separated), and the
  operator class PostgreSQL adds where Moodle searches with LIKE 'x%'.

Moodle declares foreign keys in XMLDB only; no database holds them.
"""

from __future__ import annotations

import csv
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


def _read_tables() -> dict[str, list[Column]]:
    tables: dict[str, list[Column]] = {}
    for row in _rows("moodle_columns.csv"):
        default = None if row["default"] == NO_DEFAULT else row["default"]
        column = (row["column"], row["type"], row["not_null"] == "true", default)
        tables.setdefault(row["table"], []).append(column)
    return tables


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


# table -> columns in Moodle's order
MOODLE_TABLES: dict[str, list[Column]] = _read_tables()
# table -> primary key and indexes, in the order Moodle creates them
MOODLE_KEYS: dict[str, MoodleKeys] = _read_keys()

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
