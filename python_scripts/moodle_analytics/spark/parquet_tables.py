"""Moving tables between DuckDB and the Parquet files Spark reads and writes."""

from __future__ import annotations

from pathlib import Path

import duckdb


def export_moodle_tables(source: Path, directory: Path, schema: str, prefix: str) -> list[str]:
    """Every <prefix>* table of a Moodle DuckDB file as <directory>/<table>.parquet."""
    directory.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(source), read_only=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [schema],
            ).fetchall()
            if name.startswith(prefix)
        ]
        if not tables:
            raise SystemExit(f"no Moodle tables {schema}.{prefix}* in {source}")
        for table in tables:
            target = directory / f"{table}.parquet"
            connection.execute(f"copy {schema}.\"{table}\" to '{target}' (format parquet)")
    return tables


def spark_table(connection: duckdb.DuckDBPyConnection, location: Path) -> duckdb.DuckDBPyRelation:
    """A table Spark wrote (a directory of Parquet files, possibly partitioned),
    typed as the DuckDB build types it: Spark's timestamps are instants (read back
    with a time zone) and become UTC timestamps without one; its decimals become
    doubles."""
    if not location.is_dir():
        raise SystemExit(f"no table written by Spark at {location}: run the Spark build first")
    connection.execute("set TimeZone = 'UTC'")
    relation = connection.read_parquet(f"{location}/**/*.parquet", hive_partitioning=True)
    columns = []
    for name, column_type in zip(relation.columns, relation.types, strict=True):
        type_name = str(column_type).upper()
        quoted = '"' + name.replace('"', '""') + '"'
        if type_name == "TIMESTAMP WITH TIME ZONE":
            columns.append(f"cast({quoted} as timestamp) as {quoted}")
        elif type_name.startswith("DECIMAL"):
            columns.append(f"cast({quoted} as double) as {quoted}")
        else:
            columns.append(quoted)
    return relation.project(", ".join(columns))


def read_spark_table(connection: duckdb.DuckDBPyConnection, location: Path):
    """A table Spark wrote, as a pandas frame (see spark_table)."""
    return spark_table(connection, location).df()


def write_parquet(connection: duckdb.DuckDBPyConnection, frame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    connection.register("frame_to_write", frame)
    try:
        connection.execute(f"copy frame_to_write to '{target}' (format parquet)")
    finally:
        connection.unregister("frame_to_write")
