"""A copy of the Moodle tables to load from: a DuckDB file or a directory of Parquet files.

The demo generator and moodle-import-files write the DuckDB file; Parquet files
are named <prefix><table>.parquet. DuckDB reads either, checks that every table
and column of MOODLE_TABLES is there, and hands out each table's rows in Moodle's
column order and types, whole or in id ranges, for any engine's loader.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from moodle_analytics.moodle_db.ddl import duckdb_type
from moodle_analytics.moodle_db.tables import MOODLE_TABLES


class LoadError(RuntimeError):
    """The source or target of a load is not as expected; the message says what to do."""


@dataclass
class LoadResult:
    """What an engine's loader wrote: rows per table, seconds per phase, warnings."""

    database: str
    prefix: str
    row_counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


class PhaseClock:
    """Seconds per phase of a load, each said as it ends."""

    def __init__(self, say: Callable[[str], None] | None = None):
        self.say = say or (lambda message: None)
        self.started = self.mark = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self.mark, 2)
        self.say(f"{phase}: {self.seconds[phase]:.1f} s")
        self.mark = now

    def total(self) -> dict[str, float]:
        return {**self.seconds, "total": round(time.perf_counter() - self.started, 2)}


class MoodleSource:
    """The Moodle tables in a DuckDB file or a directory of Parquet files."""

    def __init__(self, path: str | Path, schema: str = "public", prefix: str = "mdl_"):
        self.path = Path(path)
        self.prefix = prefix
        if self.path.is_dir():
            self.connection = duckdb.connect()
            self._view_parquet_files()
            self.schema = "main"
        elif self.path.is_file():
            try:
                self.connection = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as error:
                raise LoadError(f"cannot open {self.path} as a DuckDB database: {error}") from None
            self.schema = schema
        else:
            raise LoadError(f"{self.path} not found (expected a DuckDB file or Parquet directory)")
        self._check_columns()

    def _view_parquet_files(self) -> None:
        missing = []
        for table in MOODLE_TABLES:
            file = self.path / f"{self.prefix}{table}.parquet"
            if not file.exists():
                missing.append(file.name)
                continue
            literal = str(file).replace("'", "''")
            self.connection.execute(
                f"CREATE VIEW \"{self.prefix}{table}\" AS SELECT * FROM read_parquet('{literal}')"
            )
        if missing:
            raise LoadError(f"{self.path} lacks {len(missing)} Parquet files: {missing}")

    def relation(self, table: str) -> str:
        return f'"{self.schema}"."{self.prefix}{table}"'

    def _check_columns(self) -> None:
        rows = self.connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
            [self.schema],
        ).fetchall()
        present: dict[str, set[str]] = {}
        for table_name, column_name in rows:
            present.setdefault(table_name, set()).add(column_name)
        problems = []
        for table, columns in MOODLE_TABLES.items():
            have = present.get(self.prefix + table)
            if have is None:
                problems.append(f"table {self.schema}.{self.prefix}{table} missing")
                continue
            lacking = [name for name, *_ in columns if name not in have]
            if lacking:
                problems.append(f"{self.prefix}{table} lacks columns {lacking}")
        if problems:
            raise LoadError(f"{self.path} is not a Moodle source: " + "; ".join(problems[:10]))

    def select(self, table: str, where: str = "") -> str:
        """Moodle's columns in Moodle's order, cast to the DuckDB type carrying their values."""
        columns = ", ".join(
            f'CAST("{name}" AS {duckdb_type(moodle_type)}) AS "{name}"'
            for name, moodle_type, *_ in MOODLE_TABLES[table]
        )
        return f"SELECT {columns} FROM {self.relation(table)} {where}"

    def count(self, table: str) -> int:
        return self.connection.execute(f"SELECT count(*) FROM {self.relation(table)}").fetchone()[0]

    def id_ranges(self, table: str, parts: int) -> list[str]:
        """WHERE clauses that split a table into ``parts`` id ranges of similar size."""
        if parts <= 1:
            return [""]
        low, high = self.connection.execute(
            f"SELECT min(id), max(id) FROM {self.relation(table)}"
        ).fetchone()
        if low is None:
            return [""]
        step = (high - low) // parts + 1
        return [
            f"WHERE id >= {low + k * step} AND id < {low + (k + 1) * step}" for k in range(parts)
        ]

    def close(self) -> None:
        self.connection.close()
