"""Write Moodle tables with Moodle's names and types.

Every table is first written into a DuckDB database (a file, or a temporary one)
in chunks, so memory stays flat however large the log; Parquet and CSV copies
are exported from there by DuckDB itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from moodle_analytics.moodle_db.ddl import DUCKDB, create_table_sql
from moodle_analytics.moodle_db.tables import MOODLE_TABLES


def column_defaults(table: str) -> dict[str, object]:
    """Python values for each column's Moodle default (None where it has none)."""
    defaults: dict[str, object] = {}
    for name, postgres_type, _not_null, default in MOODLE_TABLES[table]:
        if default is None:
            defaults[name] = None
        elif postgres_type.startswith(("varchar", "text")):
            defaults[name] = default
        elif postgres_type.startswith("numeric"):
            defaults[name] = float(default)
        else:
            defaults[name] = int(default)
    return defaults


class MoodleDuckDBWriter:
    """Creates the Moodle tables in one DuckDB schema and appends chunks to them."""

    def __init__(
        self,
        path: str | Path,
        prefix: str = "mdl_",
        schema: str = "public",
        create: bool = True,
        memory_limit: str | None = None,
    ):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", prefix):
            raise ValueError(f"table prefix {prefix!r} must be lowercase letters, digits, _")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
            raise ValueError(f"schema {schema!r} must be lowercase letters, digits, _")
        self.prefix = prefix
        self.schema = schema
        self.connection = duckdb.connect(str(path))
        # DuckDB keeps written blocks cached up to its memory limit (most of the
        # RAM by default); a long run of appends can ask for a lower one.
        if memory_limit:
            self.connection.execute(f"SET memory_limit = '{memory_limit}'")
        if not create:
            return
        self.connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for table in MOODLE_TABLES:
            self.connection.execute(f'DROP TABLE IF EXISTS "{schema}"."{prefix}{table}"')
            self.connection.execute(create_table_sql(table, DUCKDB, prefix, schema))

    @classmethod
    def reopen(cls, path: str | Path, prefix: str = "mdl_", schema: str = "public"):
        """Open tables written earlier, to export or extend them."""
        return cls(path, prefix, schema, create=False)

    def table_name(self, table: str) -> str:
        return f'"{self.schema}"."{self.prefix}{table}"'

    def append(self, table: str, frame: pd.DataFrame | pa.Table) -> None:
        """Append rows; columns the frame lacks take Moodle's default."""
        if len(frame) == 0:
            return
        columns = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
        defaults = column_defaults(table)
        # Rows built without a column take its default, as an INSERT would.
        if isinstance(frame, pd.DataFrame):
            fill = {c: defaults[c] for c in columns if defaults.get(c) is not None}
            if fill and frame[list(fill)].isna().any().any():
                frame = frame.fillna(fill)
        self.connection.register("chunk", frame)
        try:
            self._insert(table, columns, "chunk")
        finally:
            self.connection.unregister("chunk")

    def append_parquet(self, table: str, paths: list[str | Path], columns: list[str]) -> None:
        """Append the rows of Parquet files that hold `columns` of the table."""
        if not paths:
            return
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
        self._insert(table, columns, f"read_parquet([{files}])")

    def _insert(self, table: str, columns: list[str], source: str) -> None:
        known = [name for name, *_ in MOODLE_TABLES[table]]
        unknown = set(columns) - set(known)
        if unknown:
            raise ValueError(f"{table}: columns not in Moodle's schema: {sorted(unknown)}")
        defaults = column_defaults(table)
        select = []
        for name in known:
            if name in columns:
                select.append(f'"{name}"')
            elif defaults[name] is None:
                select.append(f'NULL AS "{name}"')
            elif isinstance(defaults[name], str):
                select.append(f"'{defaults[name]}' AS \"{name}\"")
            else:
                select.append(f'{defaults[name]} AS "{name}"')
        self.connection.execute(
            f"INSERT INTO {self.table_name(table)} SELECT {', '.join(select)} FROM {source}"
        )

    def checkpoint(self) -> None:
        """Settle appended rows into the file now: a checkpoint's memory grows with what
        it has to settle, so a long run of appends checkpoints every so often."""
        self.connection.execute("CHECKPOINT")

    def row_counts(self) -> dict[str, int]:
        return {
            table: self.connection.execute(
                f"SELECT count(*) FROM {self.table_name(table)}"
            ).fetchone()[0]
            for table in MOODLE_TABLES
        }

    def export(self, directory: str | Path, file_format: str) -> None:
        """Copy every table to <directory>/<prefix><table>.<parquet|csv>."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        options = {
            "parquet": "(FORMAT parquet, COMPRESSION zstd)",
            "csv": "(HEADER, DELIMITER ',')",
        }
        for table in MOODLE_TABLES:
            target = directory / f"{self.prefix}{table}.{file_format}"
            self.connection.execute(
                f"COPY {self.table_name(table)} TO '{target}' {options[file_format]}"
            )

    def close(self) -> None:
        self.connection.close()
