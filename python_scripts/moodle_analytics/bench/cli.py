"""moodle-bench: speed and memory of the build at 1, 10 (and 100) million log rows.

For each size it generates a demo site once (kept in the work directory and
reused), then measures in the same run, on the same data:

  full build     `dbt build` on DuckDB into a fresh warehouse: wall time, peak
                 memory of the whole process tree, log rows per second, and
                 dbt's own time per node (where the build spends it);
  mart path      `dbt build` of fct_learner_weeks and what it needs, models
                 and seeds only: the work the notebook way also does;
  incremental    `dbt build` again after the newest ~1% of log rows (held
                 back from the full build) arrive, as a live site's would;
  floor          one DuckDB query that reads the log once and groups it by
                 learner, course and week;
  notebook       the learner-week features in pandas, checked equal to the
                 mart's numbers;
  postgres       (--postgres) the full build with dbt-postgres on a private
                 server, for sizes up to --postgres-max.

Once per run it also times `dbt build` of the default demo site (what `make
run` builds). It prints a table of every figure by size, then the goals of
the performance brief with the figures of 2026-12-04 beside this run's
(report.py), and writes every figure, with the machine and the date, to a
JSON file. Not part of the test suite: a 10 million row run takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from moodle_analytics import cli_options
from moodle_analytics.bench.data import (
    BenchDataError,
    copy_site,
    ensure_demo_site,
    ensure_site,
    hold_back_newest,
    parse_size,
    put_back,
)
from moodle_analytics.bench.dbt_runs import DbtProject
from moodle_analytics.bench.measure import run_measured
from moodle_analytics.bench.notebook import compare_with_mart, read_mart
from moodle_analytics.bench.report import format_goals, format_table, goal_rows, summarise

PROG = "moodle-bench"
PROJECT_DIR = Path(__file__).resolve().parents[3]
MEASURES = ("mart_path", "incremental", "floor", "notebook", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = cli_options.parser(
        PROG,
        __doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog="Figures go to --out and the terminal; see docs/benchmark.md.",
    )
    parser.add_argument(
        "--sizes", default="1M,10M", help="log sizes, comma-separated (1M, 250k, 10000000)"
    )
    parser.add_argument("--with-100m", action="store_true", help="add the 100 million row size")
    parser.add_argument(
        "--postgres", action="store_true", help="also build on a private PostgreSQL server"
    )
    parser.add_argument(
        "--postgres-max", default="10M", help="largest size built on PostgreSQL with --postgres"
    )
    parser.add_argument("--out", type=Path, default=Path("artifacts/bench.json"))
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("data/bench"),
        help="generated sites (kept and reused) and run files",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size; the table shows the median"
    )
    parser.add_argument(
        "--increment-share",
        type=float,
        default=0.01,
        help="share of the newest log rows held back for the incremental build",
    )
    parser.add_argument(
        "--memory-limit",
        help="DuckDB memory limit (e.g. 4GB) for dbt and the floor, via DUCKDB_MEMORY_LIMIT",
    )
    parser.add_argument(
        "--skip", default="", help=f"measures to leave out, comma-separated: {', '.join(MEASURES)}"
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="SELECTOR",
        help="leave these nodes out of every dbt build (dbt's --exclude; repeatable), "
        "e.g. a data test that fails on the generated data",
    )
    parser.add_argument(
        "--profiles-dir", type=Path, default=PROJECT_DIR, help="directory of profiles.yml"
    )
    parser.add_argument(
        "--max-load",
        type=float,
        help="before each measurement wait until the 1-minute load average is below this",
    )
    parser.add_argument(
        "--max-wait", type=float, default=1800, help="longest wait for --max-load, in seconds"
    )
    return parser


# -- the machine and the moment ---------------------------------------------------


def load_average() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def wait_for_quiet(max_load: float | None, max_wait: float, say) -> float:
    """The load average now, after waiting (up to max_wait) for it to fall below max_load."""
    load = load_average()
    if max_load is None or load < max_load:
        return load
    say(f"  waiting for the load average ({load:.1f}) to fall below {max_load} ...")
    deadline = time.monotonic() + max_wait
    while load >= max_load and time.monotonic() < deadline:
        time.sleep(15)
        load = load_average()
    return load


def machine() -> dict:
    cpu = "unknown"
    memory_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    versions = {}
    for package in ("dbt-core", "dbt-duckdb", "dbt-postgres", "duckdb", "pandas"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "project_commit": commit or None,
    }


# -- one size ---------------------------------------------------------------------


def fresh(warehouse: Path) -> None:
    """No warehouse file left from an earlier run (nor its WAL and spill files)."""
    for path in (warehouse, Path(f"{warehouse}.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(Path(f"{warehouse}.tmp"), ignore_errors=True)


@dataclass
class Run:
    """One run on one size: its files, its dbt project and what it measured."""

    options: argparse.Namespace
    project: DbtProject
    run_dir: Path
    source: Path
    warehouse: Path
    env: dict
    say: Callable[[str], None]
    result: dict = field(default_factory=dict)

    def quiet(self, measure: str) -> None:
        self.result.setdefault("load_average", {})[measure] = wait_for_quiet(
            self.options.max_load, self.options.max_wait, self.say
        )

    def measure_mart_path(self) -> None:
        self.quiet("mart_path")
        self.say("  mart path: dbt build --select +fct_learner_weeks (models and seeds) ...")
        mart_path = self.project.run(
            "build",
            "--select",
            "+fct_learner_weeks",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            name="mart_path",
        )
        self.result["mart_path"] = mart_path.summary()
        self.result["mart_path"]["slowest_nodes"] = mart_path.slowest()
        fresh(self.warehouse)

    def measure_full_build(self, log_rows: int) -> bool:
        """The full build; whether dbt got to run its nodes."""
        self.quiet("full_build")
        self.say("  full build: dbt build ...")
        full = self.project.run("build", *self.options.exclude_args, name="full_build")
        self.result["full_build"] = full.summary()
        self.result["full_build"]["log_rows"] = log_rows
        self.result["full_build"]["node_count"] = len(full.nodes)
        self.result["full_build"]["nodes"] = full.nodes
        if not full.ok:
            self.say(
                f"  the full build failed ({len(full.failures)} nodes): "
                f"see {self.run_dir / 'full_build.log'}"
            )
        return full.dbt_seconds is not None

    def measure_module(self, measure: str, module: str, *arguments: str) -> dict:
        """A bench module run in its own process, measured like dbt."""
        self.quiet(measure)
        measured = run_measured(
            [sys.executable, "-m", f"moodle_analytics.bench.{module}", *arguments],
            env=self.env,
            log_file=self.run_dir / f"{measure}.log",
        )
        self.result[measure] = {
            "seconds": round(measured.seconds, 2),
            "peak_gb": round(measured.peak_bytes / 1e9, 3),
            "cpu_seconds": round(measured.cpu_seconds, 1),
            "returncode": measured.returncode,
        }
        return self.result[measure]

    def measure_floor(self) -> None:
        self.say("  floor: one query over the log ...")
        floor_file = self.run_dir / "floor.duckdb"
        self.measure_module(
            "floor", "floor", "--source", str(self.source), "--warehouse", str(floor_file)
        )
        floor_file.unlink(missing_ok=True)

    def measure_notebook(self, check: bool) -> None:
        self.say("  notebook: the learner-week features in pandas ...")
        features_file = self.run_dir / "notebook_features.parquet"
        figures = self.measure_module(
            "notebook", "notebook", "--source", str(self.source), "--out", str(features_file)
        )
        if check and figures["returncode"] == 0:
            import duckdb
            import pandas as pd

            try:
                mart = read_mart(self.warehouse)
            except duckdb.Error as error:
                figures["check"] = {"equal": None, "error": str(error)}
            else:
                figures["check"] = compare_with_mart(pd.read_parquet(features_file), mart)
        features_file.unlink(missing_ok=True)

    def measure_postgres(self) -> None:
        from moodle_analytics.bench.postgres import postgres_build

        self.quiet("postgres")
        try:
            self.result["postgres"] = postgres_build(
                self.source,
                PROJECT_DIR,
                self.options.profiles_dir,
                self.run_dir / "postgres",
                self.env,
                self.say,
                build_args=self.options.exclude_args,
            )
        except Exception as error:
            # Reported in the figures: the DuckDB measures and the other sizes go on.
            self.result["postgres"] = {"error": f"{type(error).__name__}: {error}"}
            self.say(f"  postgres: {type(error).__name__}: {error}")

    def measure_incremental(self, held_back_file: Path, new_rows: int) -> None:
        put_back(self.source, held_back_file)
        self.quiet("incremental")
        self.say(f"  incremental: dbt build after {new_rows:,} new log rows ...")
        incremental = self.project.run(
            "build", *self.options.exclude_args, name="incremental_build"
        )
        self.result["incremental"] = incremental.summary()
        self.result["incremental"]["new_rows"] = new_rows
        self.result["incremental"]["slowest_nodes"] = incremental.slowest()


def start_run(site, options, env: dict, run_dir: Path, say) -> Run:
    """A run directory with a copy of the site and a fresh warehouse."""
    source = run_dir / "moodle_source.duckdb"
    warehouse = run_dir / "moodle_analytics.duckdb"
    copy_site(site.source, source)
    # The full build fits every risk model (an empty store); the incremental
    # build finds the fits whose training rows did not change.
    model_store = run_dir / "risk_model_store"
    shutil.rmtree(model_store, ignore_errors=True)
    env = {
        **env,
        "MOODLE_SOURCE_DUCKDB": str(source),
        "MOODLE_ANALYTICS_DUCKDB": str(warehouse),
        "MOODLE_RISK_MODEL_STORE": str(model_store),
    }
    project = DbtProject(PROJECT_DIR, options.profiles_dir, run_dir, env)
    fresh(warehouse)
    run = Run(options, project, run_dir, source, warehouse, env, say)
    run.result["parse"] = project.run("parse", name="parse").summary()
    return run


def bench_run(site, options, env: dict, run_dir: Path, first: bool, say) -> dict:
    """One run on one size: every measure, in order, on the same data."""
    run = start_run(site, options, env, run_dir, say)
    held_back_file = run_dir / "held_back.duckdb"
    held = hold_back_newest(run.source, held_back_file, options.increment_share)
    run.result["held_back"] = held.as_dict()
    say(
        f"  held back the newest {held.rows:,} log rows ({held.share:.1%}, {held.days:.1f} days);"
        f" the full build reads {held.rows_kept:,}"
    )
    skip = options.skip_set
    if "mart_path" not in skip:
        run.measure_mart_path()
    built = run.measure_full_build(held.rows_kept)
    if "floor" not in skip:
        run.measure_floor()
    if "notebook" not in skip:
        run.measure_notebook(check=first)
    if options.postgres and site.target_rows <= options.postgres_max_rows and first:
        run.measure_postgres()
    # A failing data test does not stop the incremental run; a build that
    # never got to run its nodes does.
    if "incremental" not in skip and built:
        run.measure_incremental(held_back_file, held.rows)
    return run.result


def demo_run(options, env: dict, work_dir: Path, say) -> dict:
    """`dbt build` of the default demo site into a fresh warehouse: what `make run` does."""
    site = ensure_demo_site(work_dir, say=say)
    run = start_run(site, options, env, work_dir / site.label / "run", say)
    run.measure_full_build(site.log_rows)
    return run.result


# -- main -------------------------------------------------------------------------


def parse_options(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The options, checked; sizes and the measures to skip read once."""
    options = parser.parse_args(argv)
    try:
        options.size_rows = [parse_size(size) for size in options.sizes.split(",") if size.strip()]
        options.postgres_max_rows = parse_size(options.postgres_max)
    except ValueError as error:
        parser.error(str(error))
    if options.with_100m and 100_000_000 not in options.size_rows:
        options.size_rows.append(100_000_000)
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    options.exclude_args = ["--exclude", *options.exclude] if options.exclude else []
    options.skip_set = {item.strip() for item in options.skip.split(",") if item.strip()}
    unknown = options.skip_set - set(MEASURES)
    if unknown:
        parser.error(f"--skip: unknown measures {sorted(unknown)}; use any of {MEASURES}")
    try:
        cli_options.input_file(options.profiles_dir / "profiles.yml", "--profiles-dir")
        cli_options.output_file(options.out, "--out")
        cli_options.output_directory(options.work_dir, "--work-dir")
    except cli_options.InputError as error:
        parser.error(str(error))
    return options


def bench_environment(options, say) -> tuple[dict, dict]:
    """The environment of every command, and the settings recorded with the figures."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("DBT_TARGET", None)
    settings = {
        "increment_share": options.increment_share,
        "repeat": options.repeat,
        "memory_limit": options.memory_limit,
        "excluded": options.exclude,
    }
    if options.memory_limit:
        env["DUCKDB_MEMORY_LIMIT"] = options.memory_limit
        # The project's on-run-start hook (or a profile) reads the variable.
        profiles = options.profiles_dir / "profiles.yml"
        readers = [profiles, *sorted((PROJECT_DIR / "macros").glob("*.sql"))]
        if not any("DUCKDB_MEMORY_LIMIT" in reader.read_text() for reader in readers):
            say(f"{PROG}: warning: neither {profiles} nor a macro reads DUCKDB_MEMORY_LIMIT")
            settings["duckdb_memory_limit_ignored_by_dbt"] = True
    return env, settings


def write_report(report: dict, summaries: list[dict], out: Path) -> None:
    """Written after every size, so a long run keeps what it has measured."""
    report["goals"] = goal_rows(summaries)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    options = parse_options(build_parser(), argv)

    def say(message: str) -> None:
        print(message, flush=True)

    env, settings = bench_environment(options, say)
    work_dir = options.work_dir.resolve()
    report: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": settings,
        "sizes": [],
    }
    summaries = []
    try:
        if "demo" not in options.skip_set:
            say("[demo] dbt build of the default demo site ...")
            demo = demo_run(options, env, work_dir, say)
            summaries.append(summarise("demo", [demo]))
            report["sizes"].append({"size": "demo", "summary": summaries[-1], "runs": [demo]})
            write_report(report, summaries, options.out)
        for rows in options.size_rows:
            site = ensure_site(work_dir, rows, say=say)
            runs = []
            for repetition in range(options.repeat):
                say(f"[{site.label}] run {repetition + 1} of {options.repeat}")
                run_dir = work_dir / site.label / "run"
                runs.append(bench_run(site, options, env, run_dir, repetition == 0, say))
            summaries.append(summarise(site.label, runs))
            report["sizes"].append(
                {
                    "size": site.label,
                    "generated_log_rows": site.log_rows,
                    "generation_seconds": site.generation_seconds,
                    "summary": summaries[-1],
                    "runs": runs,
                }
            )
            write_report(report, summaries, options.out)
    except BenchDataError as error:
        return cli_options.fail(PROG, error)

    say("")
    say(
        f"moodle-bench, {report['date'][:10]}, {report['machine']['cpu']}, "
        f"{report['machine']['cores']} cores, {report['machine']['memory_gb']} GB"
    )
    say(format_table(summaries))
    say("")
    say(format_goals(report["goals"]))
    say(f"\nfigures: {options.out}")
    failed = [summary["size"] for summary in summaries if not summary["full_build_ok"]]
    if failed:
        say(f"{PROG}: the full build failed for {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
