"""Build times of the same Moodle data on DuckDB, DuckDB over PostgreSQL and PostgreSQL.

    moodle-pg bench --duckdb data/moodle_source.duckdb

starts a private PostgreSQL server in a temporary directory, loads the Moodle tables
of the DuckDB file into it, creates the reader, build and BI roles, then times
``dbt build`` of the project on each target, as the roles a site would use:

* duckdb: the default target, reading the DuckDB file;
* duckdb_pg: DuckDB attaching the Moodle database read-only (reader role), marts
  written to a second database, "analytics" (build role);
* postgres: dbt-postgres inside the Moodle database (build role).

Prints one line per phase (load, each build) and stops the server. Figures only:
nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from moodle_analytics.pg_load import ensure_database, load_moodle
from moodle_analytics.pg_roles import create_bi_role, create_build_role, create_reader_role
from moodle_analytics.pg_server import PostgresServer

TARGETS = ("duckdb", "duckdb_pg", "postgres")
READER, BUILDER, BI = "moodle_reader", "moodle_builder", "moodle_bi"
ANALYTICS_DATABASE = "analytics"


@dataclass
class Timing:
    phase: str
    seconds: float
    detail: str


def _login(server: PostgresServer, prefix: str, role: str, password: str, database: str):
    return {
        f"{prefix}_HOST": server.host,
        f"{prefix}_PORT": str(server.port),
        f"{prefix}_USER": role,
        f"{prefix}_PASSWORD": password,
        f"{prefix}_DBNAME": database,
    }


def _summary(output: str) -> str:
    done = re.findall(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)", output)
    return done[-1] if done else "no summary: " + " ".join(output.strip().splitlines()[-3:])


def _python_model_seconds(target_path: Path) -> float:
    """Time the run spent in dbt Python models (the risk models), from its artifacts."""
    try:
        manifest = json.loads((target_path / "manifest.json").read_text())
        results = json.loads((target_path / "run_results.json").read_text())
    except (OSError, ValueError):
        return 0.0
    nodes = manifest.get("nodes", {})
    return sum(
        result.get("execution_time") or 0.0
        for result in results.get("results", [])
        if nodes.get(result.get("unique_id"), {}).get("language") == "python"
    )


def run_benchmark(
    source: Path,
    work_dir: Path,
    project_dir: Path,
    targets: tuple[str, ...] = TARGETS,
    dbt_args: tuple[str, ...] = (),
    log=print,
) -> list[Timing]:
    timings: list[Timing] = []
    dbt = str(Path(sys.executable).parent / "dbt")
    with PostgresServer(base_dir=work_dir) as server:
        started = time.perf_counter()
        loaded = load_moodle(server.dsn(), source, database="moodle")
        timings.append(
            Timing(
                "load into PostgreSQL",
                time.perf_counter() - started,
                f"{loaded.total_rows:,} rows",
            )
        )
        log(f"{timings[-1].phase}: {timings[-1].seconds:.1f} s ({timings[-1].detail})")
        conn = server.connect("moodle")
        try:
            passwords = {
                READER: create_reader_role(conn, READER),
                BUILDER: create_build_role(conn, BUILDER, reader_role=READER),
                BI: create_bi_role(conn, BI),
            }
        finally:
            conn.close()
        ensure_database(server.dsn(), ANALYTICS_DATABASE)
        conn = server.connect(ANALYTICS_DATABASE)
        try:
            create_build_role(conn, BUILDER, passwords[BUILDER], reader_role=READER)
        finally:
            conn.close()
        environments = {
            "duckdb": {
                "MOODLE_SOURCE_DUCKDB": str(source),
                "MOODLE_ANALYTICS_DUCKDB": str(work_dir / "duckdb.duckdb"),
            },
            "duckdb_pg": {
                **_login(server, "MOODLE_PG", READER, passwords[READER], "moodle"),
                **_login(server, "ANALYTICS_PG", BUILDER, passwords[BUILDER], ANALYTICS_DATABASE),
                "MOODLE_ANALYTICS_DUCKDB_PG": str(work_dir / "duckdb_pg.duckdb"),
                "MOODLE_PG_BI_ROLES": BI,
            },
            "postgres": {
                **_login(server, "MOODLE_PG", BUILDER, passwords[BUILDER], "moodle"),
                "MOODLE_PG_BI_ROLES": BI,
            },
        }
        for target in targets:
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("MOODLE_PG_", "ANALYTICS_PG_", "PG"))
            }
            env.update(environments[target], DBT_PROFILES_DIR=str(project_dir))
            command = [
                dbt,
                "build",
                "--target",
                target,
                "--target-path",
                str(work_dir / f"target_{target}"),
                "--log-path",
                str(work_dir / f"logs_{target}"),
                *dbt_args,
            ]
            started = time.perf_counter()
            result = subprocess.run(
                command, cwd=project_dir, env=env, capture_output=True, text=True
            )
            seconds = time.perf_counter() - started
            python = _python_model_seconds(work_dir / f"target_{target}")
            detail = _summary(result.stdout) + (f"; Python models {python:.1f} s" if python else "")
            timings.append(Timing(f"dbt build {target}", seconds, detail))

            log(f"{timings[-1].phase}: {timings[-1].seconds:.1f} s ({timings[-1].detail})")
    return timings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duckdb", type=Path, required=True, help="Moodle source DuckDB file")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the dbt project")
    parser.add_argument("--work-dir", type=Path, help="where the server and warehouses go")
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help="comma-separated targets to build, in order"
    )
    parser.add_argument("--dbt-args", default="", help="extra dbt build arguments, one string")


def cmd_bench(args: argparse.Namespace) -> int:
    targets = tuple(name for name in args.targets.split(",") if name)
    unknown = set(targets) - set(TARGETS)
    if unknown:
        print(f"moodle-pg: error: unknown targets {sorted(unknown)}; choose from {TARGETS}")
        return 2
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="moodle-pg-bench-", dir=args.work_dir) as work:
        # The postgres OS user runs the server in here when we are root.
        Path(work).chmod(0o755)
        timings = run_benchmark(
            args.duckdb.resolve(),
            Path(work),
            args.project_dir.resolve(),
            targets,
            tuple(shlex.split(args.dbt_args)),
        )
    width = max(len(timing.phase) for timing in timings)
    print()
    for timing in timings:
        print(f"{timing.phase:<{width}}  {timing.seconds:8.1f} s  {timing.detail}")
    builds = [timing for timing in timings if timing.phase.startswith("dbt")]
    return 0 if all("ERROR=0" in timing.detail for timing in builds) else 1
