"""moodle-spark: the whole project on Apache Spark, in one command.

1. The Moodle tables as Parquet files (exported from a Moodle DuckDB file, or
   given as a directory of <prefix><table>.parquet files).
2. `dbt build --target spark`: the files registered as Spark tables, every
   staging, intermediate and mart SQL model built by Spark into its warehouse
   (Parquet); risk scores there are the rule-based SQL stand-ins.
3. The risk models on DuckDB, reading the features Spark wrote, with the
   settings of the dbt Python models; their scores written as Parquet.
4. Those files registered as Spark tables in <ml schema>_models
   (analytics_ml_models.fct_learner_risk_scores, ...).

Spark runs in local session mode (profiles.yml, target spark) with its
warehouse and metastore in --spark-dir; a cluster target works the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from moodle_analytics import cli_options
from moodle_analytics.moodle_db.source import LoadError, MoodleSource
from moodle_analytics.spark.parquet_tables import export_moodle_tables
from moodle_analytics.spark.risk_stage import RISK_TABLES, SparkBuild, score

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = str(Path(sys.executable).parent / "dbt")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = cli_options.parser("moodle-spark", __doc__.split("\n\n")[0])
    cli_options.add_moodle_source(parser)
    parser.add_argument(
        "--spark-dir",
        type=Path,
        default=Path("data/spark"),
        help="Spark's warehouse, metastore, dbt target and the exported Parquet files",
    )
    cli_options.add_moodle_tables(parser)
    parser.add_argument(
        "--vars",
        type=cli_options.dbt_vars,
        default={},
        help="dbt variables, as dbt's --vars (YAML mapping)",
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental models from scratch"
    )
    parser.add_argument(
        "--select",
        nargs="+",
        metavar="SELECTOR",
        help="build only these (dbt's --select); the risk models run after a whole build only",
    )
    parser.add_argument(
        "--skip-tests",
        action="store_true",
        help="build models and seeds only (data and unit tests run on DuckDB in `make test`)",
    )
    cli_options.add_project_dir(parser, PROJECT_DIR)
    return parser.parse_args(argv)


def dbt(args: argparse.Namespace, *arguments: str) -> None:
    spark_dir = args.spark_dir.resolve()
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(args.project_dir))
    env.update(
        MOODLE_SPARK_DIR=str(spark_dir),
        SPARK_LOCAL_IP="127.0.0.1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    command = [
        DBT,
        *arguments,
        "--target",
        "spark",
        "--target-path",
        str(spark_dir / "target"),
        "--log-path",
        str(spark_dir / "logs"),
    ]
    result = subprocess.run(command, cwd=args.project_dir, env=env)
    if result.returncode != 0:
        raise SystemExit(f"moodle-spark: dbt {arguments[0]} failed ({result.returncode})")


def parquet_tables(args: argparse.Namespace) -> Path:
    """The Moodle tables as Parquet: the given directory, or exported from --duckdb."""
    if args.parquet_dir is not None:
        return args.parquet_dir.resolve()
    parquet_dir = args.spark_dir.resolve() / "moodle_parquet"
    tables = export_moodle_tables(args.duckdb, parquet_dir, args.schema, args.prefix)
    print(f"moodle-spark: {len(tables)} Moodle tables as Parquet in {parquet_dir}")
    return parquet_dir


def build_arguments(args: argparse.Namespace, variables: dict) -> list[str]:
    """`dbt build` of every model on Spark, tests too unless --skip-tests."""
    build = ["build", "--vars", json.dumps(variables)]
    if args.full_refresh:
        build.append("--full-refresh")
    if args.skip_tests:
        build += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    if args.select:
        build += ["--select", *args.select]
    return build


def register_scores(args: argparse.Namespace, variables: dict, schema: str, scores_dir: Path):
    """The risk tables DuckDB wrote, registered as Spark tables in ``schema``."""
    register = {"schema": schema, "directory": str(scores_dir), "identifiers": list(RISK_TABLES)}
    dbt(
        args,
        "run-operation",
        "register_parquet_tables",
        "--args",
        json.dumps(register),
        "--vars",
        json.dumps(variables),
    )


def check_paths(args: argparse.Namespace) -> None:
    """The Moodle tables are there (every table and column) and --spark-dir can be
    written, before Spark starts."""
    MoodleSource(cli_options.input_moodle_source(args), args.schema, args.prefix).close()
    cli_options.input_directory(args.project_dir, "--project-dir")
    cli_options.output_directory(args.spark_dir, "--spark-dir")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_paths(args)
    except (cli_options.InputError, LoadError) as error:
        return cli_options.fail("moodle-spark", error)
    spark_dir = args.spark_dir.resolve()
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    parquet_dir = parquet_tables(args)
    seconds["parquet"] = time.perf_counter() - started

    variables = dict(args.vars)
    variables.update(
        moodle_parquet_dir=str(parquet_dir),
        moodle_schema=args.schema,
        moodle_table_prefix=args.prefix,
    )
    started = time.perf_counter()
    dbt(args, *build_arguments(args, variables))
    seconds["spark build"] = time.perf_counter() - started
    if args.select:
        print("moodle-spark: a selected build; the risk models run after a whole build")
        return 0

    started = time.perf_counter()
    spark_build = SparkBuild.load(spark_dir / "target", spark_dir / "warehouse")
    scores_dir = spark_dir / "risk_models"
    counts = score(spark_build, scores_dir)
    seconds["risk models on DuckDB"] = time.perf_counter() - started

    started = time.perf_counter()
    schema = spark_build.risk_schema()
    register_scores(args, variables, schema, scores_dir)
    seconds["register scores"] = time.perf_counter() - started

    print(
        "moodle-spark: risk scores in Spark as "
        + ", ".join(f"{schema}.{name} ({counts[name]} rows)" for name in RISK_TABLES)
    )
    print("moodle-spark seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
