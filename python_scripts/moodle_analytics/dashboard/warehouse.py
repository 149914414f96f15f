"""Read-only access to the marts `dbt build` wrote into the DuckDB warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


class WarehouseError(RuntimeError):
    """The warehouse cannot be read (missing file, locked by a running build, ...)."""


class Warehouse:
    """The marts of one warehouse, found by table name whatever schema dbt gave them."""

    def __init__(self, warehouse: Path, source: Path | None = None) -> None:
        warehouse = Path(warehouse)
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
        rows = self.connection.execute(
            """
            select table_name, table_schema, table_type
            from information_schema.tables
            where table_catalog = current_database()
            order by table_schema
            """
        ).fetchall()
        self.relations: dict[str, str] = {}
        for name, schema, _ in rows:
            # The first schema wins; dbt names them <target schema>_<layer>.
            self.relations.setdefault(name.lower(), f'"{schema}"."{name}"')

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def has(self, *tables: str) -> bool:
        return all(table.lower() in self.relations for table in tables)

    def missing(self, *tables: str) -> list[str]:
        return [table for table in tables if table.lower() not in self.relations]

    def columns(self, table: str) -> list[str]:
        relation = self.relations[table.lower()]
        return [row[0] for row in self.connection.execute(f"describe {relation}").fetchall()]

    def frame(self, sql: str, **tables: str) -> pd.DataFrame:
        """Run sql with {name} placeholders replaced by the relations of the named tables."""
        relations = {key: self.relations[table.lower()] for key, table in tables.items()}
        return self.connection.execute(sql.format(**relations)).df()

    def scalar(self, sql: str, **tables: str) -> object:
        relations = {key: self.relations[table.lower()] for key, table in tables.items()}
        row = self.connection.execute(sql.format(**relations)).fetchone()
        return row[0] if row else None
