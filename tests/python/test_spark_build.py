"""The project on Apache Spark (dbt-spark in local session mode): parity with DuckDB.

One small demo site, built two ways:

* ``spark``: `moodle-spark` on a copy whose newest log rows are held back (the
  incremental models and what they read, built from scratch), then the whole
  project once the rows are back (Spark's incremental models overwrite the
  courses that have new rows); the risk models run on DuckDB from the features
  Spark wrote;
* ``duckdb``: the default target on the complete site, in one full build.

Every mart must hold the same rows on both: integers, text, booleans and
timestamps exactly equal, floating-point numbers within a relative tolerance of
1e-9 (mart_compare). The risk marts are Python models on DuckDB and rule-based
SQL stand-ins on Spark; the stand-ins and everything built from them are left
out, and the risk tables moodle-spark computed from Spark's features are
compared with the DuckDB build's Python models instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dbt_project import (
    BIN_DIR,
    DEMO_PROGRAMMES,
    QUICK_RISK_VARS,
    WITHOUT_TESTS,
    Workspace,
    generate_demo,
)
from log_rows import hold_back_log_rows, put_back_log_rows
from mart_compare import (
    comparable,
    compare_builds,
    differences,
    duckdb_table_rows,
    marts_of,
    models_not_compiled,
)
from moodle_analytics.spark.parquet_tables import spark_table
from moodle_analytics.spark.risk_stage import RISK_TABLES, SparkBuild

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DEMO_ARGS = ("--terms", "3", "--courses-per-term", "3", "--learners-per-course", "20")
# Measurements of the run, not results.
RUN_MEASUREMENTS = {"fit_seconds"}
# Relative tolerance of the risk tables fitted on Spark's features against DuckDB's.
MODEL_TOLERANCE = 1e-6
CLASSIFIED_EVENTS = "int_log_events_classified"
INCREMENTAL_MODELS = "+config.materialized:incremental"


@dataclass
class Builds:
    duckdb: Workspace
    spark_dir: Path
    spark_runs: list[subprocess.CompletedProcess]
    held_back: int
    # The Parquet files of each course's partition of the first incremental
    # model, after the full and after the incremental Spark build.
    partitions_before: dict[str, set[str]]
    partitions_after: dict[str, set[str]]

    @property
    def spark(self) -> SparkBuild:
        return SparkBuild.load(self.spark_dir / "target", self.spark_dir / "warehouse")


def moodle_spark(source: Path, spark_dir: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN_DIR / "moodle-spark"),
            "--duckdb",
            str(source),
            "--spark-dir",
            str(spark_dir),
            "--skip-tests",
            *QUICK_RISK_VARS,
            *options,
        ],
        capture_output=True,
        text=True,
        # The demo's programmes, as the DuckDB build reads them (whatever `make` exports).
        env={**os.environ, "MOODLE_PROGRAMMES_DIR": DEMO_PROGRAMMES},
    )


def partition_files(table_dir: Path) -> dict[str, set[str]]:
    return {
        partition.name: {file.name for file in partition.glob("*.parquet")}
        for partition in table_dir.glob("course_id=*")
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> Builds:
    root = tmp_path_factory.mktemp("spark_build")
    complete = generate_demo(root / "duckdb", *DEMO_ARGS)
    spark_source = root / "spark_source.duckdb"
    shutil.copy(complete.source, spark_source)
    held_back = hold_back_log_rows(spark_source, root / "held_back.duckdb")
    spark_dir = root / "spark"
    classified = spark_dir / "warehouse" / "analytics_intermediate.db" / CLASSIFIED_EVENTS
    # The DuckDB build of the complete site runs beside Spark's (its own files).
    with ThreadPoolExecutor(max_workers=1) as pool:
        duckdb_build = pool.submit(complete.dbt, "build", *WITHOUT_TESTS, *QUICK_RISK_VARS)
        # The first run builds only what the incremental models need: the second
        # (the whole project) is the one compared with DuckDB.
        runs = [moodle_spark(spark_source, spark_dir, "--select", INCREMENTAL_MODELS)]
        before = partition_files(classified)
        put_back_log_rows(spark_source, root / "held_back.duckdb")
        if runs[0].returncode == 0:
            runs.append(moodle_spark(spark_source, spark_dir))
        after = partition_files(classified)
        duckdb_build.result()
    return Builds(complete, spark_dir, runs, held_back, before, after)


def require_spark(builds: Builds) -> None:
    for number, run in enumerate(builds.spark_runs, start=1):
        if run.returncode != 0:
            pytest.fail(
                f"moodle-spark run {number} failed:\n{run.stdout[-5000:]}\n{run.stderr[-3000:]}",
                pytrace=False,
            )
    assert len(builds.spark_runs) == 2


def parquet_rows(location: Path):
    with duckdb.connect() as connection:
        table = spark_table(connection, location)
        return comparable(table.columns, table.fetchall(), RUN_MEASUREMENTS)


# -- tests -----------------------------------------------------------------------------
def test_spark_builds_every_model_full_then_incremental(builds: Builds):
    require_spark(builds)
    built = []
    for run in builds.spark_runs:
        summary = re.search(r"Done\. PASS=(\d+) WARN=\d+ ERROR=(\d+)", run.stdout)
        assert summary and summary.group(2) == "0"
        built.append(int(summary.group(1)))
    # The incremental models and their parents, then the whole project.
    assert 10 < built[0] < built[1] and built[1] > 50


@pytest.mark.parametrize("engine", ["spark", "duckdb"])
def test_every_model_compiles(builds: Builds, engine: str):
    require_spark(builds)
    target = (
        builds.spark_dir / "target" if engine == "spark" else builds.duckdb.directory / "target"
    )
    assert models_not_compiled(target) == []


def test_incremental_build_overwrote_only_courses_with_new_rows(builds: Builds):
    require_spark(builds)
    assert builds.held_back > 100
    assert set(builds.partitions_before) == set(builds.partitions_after)
    rewritten = {
        course
        for course, files in builds.partitions_after.items()
        if files != builds.partitions_before[course]
    }
    # The held-back rows belong to the running term: its courses were overwritten,
    # the finished terms' courses kept their files.
    assert rewritten
    assert len(rewritten) < len(builds.partitions_after)


def test_spark_marts_equal_duckdb_marts(builds: Builds):
    require_spark(builds)
    compared, failures = compare_builds(
        builds.duckdb.directory / "target",
        builds.spark_dir / "target",
        lambda mart: duckdb_table_rows(builds.duckdb, mart.schema, mart.name, RUN_MEASUREMENTS),
        lambda mart: parquet_rows(builds.spark.location(mart.name)),
    )
    assert {"fct_learner_weeks", "fct_learner_courses", "fct_learner_feedback"} <= set(compared)
    assert len(compared) >= 15
    assert not failures, failures


@pytest.mark.parametrize("table", RISK_TABLES)
def test_risk_scores_from_spark_features_equal_duckdb_python_models(builds: Builds, table: str):
    require_spark(builds)
    schema = marts_of(builds.duckdb.directory / "target")[table].schema
    expected = duckdb_table_rows(builds.duckdb, schema, table, RUN_MEASUREMENTS)
    with duckdb.connect() as connection:
        cursor = connection.execute(
            f"select * from read_parquet('{builds.spark_dir / 'risk_models' / table}.parquet')"
        )
        columns = [column[0] for column in cursor.description]
        scored = comparable(columns, cursor.fetchall(), RUN_MEASUREMENTS)
    assert len(expected[1]) > 0
    # The models are fitted anew on each engine's features, which agree within 1e-12;
    # the solvers' iterations carry that noise to about 1e-9 of a probability.
    assert differences(*expected, *scored, relative_tolerance=MODEL_TOLERANCE) == []


def test_spark_registers_the_risk_scores(builds: Builds):
    """Spark reads the files moodle-spark wrote: each table's row count, as Spark counts it."""
    require_spark(builds)
    schema = builds.spark.risk_schema()
    registered = re.findall(
        rf"registered {schema}\.(\w+): (\d+) rows", builds.spark_runs[-1].stdout
    )
    counted_by_spark = {table: int(rows) for table, rows in registered}
    duckdb_marts = marts_of(builds.duckdb.directory / "target")
    for table in RISK_TABLES:
        query = f"select count(*) from {duckdb_marts[table].schema}.{table}"
        assert counted_by_spark[table] == builds.duckdb.query(query)[0][0]
