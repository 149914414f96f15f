"""moodle-spark's file handling, without Spark: exporting the Moodle tables as
Parquet, reading back what Spark writes, and the errors for missing inputs."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from moodle_analytics.spark.parquet_tables import export_moodle_tables, spark_table
from moodle_analytics.spark.risk_stage import SparkBuild


def test_export_writes_one_parquet_file_per_moodle_table(tmp_path):
    source = tmp_path / "moodle.duckdb"
    with duckdb.connect(str(source)) as connection:
        connection.execute("create schema public")
        connection.execute("create table public.mdl_user as select 1 as id, 'ana' as username")
        connection.execute("create table public.mdl_course as select 2 as id")
        connection.execute("create table public.other_table as select 3 as id")

    tables = export_moodle_tables(source, tmp_path / "parquet", "public", "mdl_")

    assert tables == ["mdl_course", "mdl_user"]
    assert sorted(path.name for path in (tmp_path / "parquet").iterdir()) == [
        "mdl_course.parquet",
        "mdl_user.parquet",
    ]
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"select id, username from '{tmp_path / 'parquet' / 'mdl_user.parquet'}'"
        ).fetchall()
    assert rows == [(1, "ana")]


def test_export_names_the_schema_and_prefix_when_no_table_matches(tmp_path):
    source = tmp_path / "empty.duckdb"
    duckdb.connect(str(source)).close()
    with pytest.raises(SystemExit, match=r"no Moodle tables public\.mdl_\* in .*empty\.duckdb"):
        export_moodle_tables(source, tmp_path / "parquet", "public", "mdl_")


def test_spark_tables_read_back_as_the_duckdb_build_types_them(tmp_path):
    """Spark writes instants (timestamp with time zone in Parquet) and decimals;
    partitioned tables keep the partition column."""
    table = tmp_path / "int_example"
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'Europe/Paris'")
        connection.execute(
            f"copy (select 7 as course_id, timestamptz '2026-03-29 01:30:00+00' as created_at, "
            f"cast(0.125 as decimal(12, 6)) as share) "
            f"to '{table}' (format parquet, partition_by (course_id))"
        )
        relation = spark_table(connection, table)
        assert dict(zip(relation.columns, map(str, relation.types), strict=True)) == {
            "created_at": "TIMESTAMP",
            "share": "DOUBLE",
            "course_id": "BIGINT",
        }
        assert relation.fetchall() == [(datetime(2026, 3, 29, 1, 30), 0.125, 7)]


def test_missing_spark_output_is_named(tmp_path):
    with duckdb.connect() as connection, pytest.raises(SystemExit, match="run the Spark build"):
        spark_table(connection, tmp_path / "no_such_table")
    with pytest.raises(SystemExit, match=r"manifest\.json: run the Spark build first"):
        SparkBuild.load(tmp_path / "target", tmp_path / "warehouse")
