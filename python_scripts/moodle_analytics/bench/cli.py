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

It prints a table and writes every figure, with the machine and the date, to
a JSON file. Not part of the test suite: a 10 million row run takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from moodle_analytics import cli_options
from moodle_analytics.bench.data import (
    BenchDataError,
    copy_site,
    ensure_site,
    hold_back_newest,
    parse_size,
    put_back,
)
from moodle_analytics.bench.dbt_runs import DbtProject
from moodle_analytics.bench.measure import run_measured
from moodle_analytics.bench.notebook import compare_with_mart, read_mart

PROG = "moodle-bench"
PROJECT_DIR = Path(__file__).resolve().parents[3]
MEASURES = ("mart_path", "incremental", "floor", "notebook")


def build_parser() -> argparse.ArgumentParser:
    parser = cli_options.parser(
        PROG,
        __doc__.split("\n\n")[0].split(": ", 1)[1],
        epilog="Figures go to --out and the terminal; see the README's Benchmark section.",
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


def bench_run(site, options, env: dict, run_dir: Path, first: bool, say) -> dict:
    """One run on one size: every measure, in order, on the same data."""
    source = run_dir / "moodle_source.duckdb"
    warehouse = run_dir / "moodle_analytics.duckdb"
    held_back_file = run_dir / "held_back.duckdb"
    copy_site(site.source, source)
    held = hold_back_newest(source, held_back_file, options.increment_share)
    say(
        f"  held back the newest {held.rows:,} log rows ({held.share:.1%}, {held.days:.1f} days);"
        f" the full build reads {held.rows_kept:,}"
    )
    # The full build fits every risk model (an empty store); the incremental
    # build finds the fits whose training rows did not change.
    model_store = run_dir / "risk_model_store"
    env = {
        **env,
        "MOODLE_SOURCE_DUCKDB": str(source),
        "MOODLE_ANALYTICS_DUCKDB": str(warehouse),
        "MOODLE_RISK_MODEL_STORE": str(model_store),
    }
    project = DbtProject(PROJECT_DIR, options.profiles_dir, run_dir, env)
    result: dict = {"held_back": held.as_dict(), "load_average": {}}
    skip = options.skip_set

    def quiet(measure: str) -> None:
        result["load_average"][measure] = wait_for_quiet(options.max_load, options.max_wait, say)

    fresh(warehouse)
    parse = project.run("parse", name="parse")
    result["parse"] = parse.summary()

    if "mart_path" not in skip:
        quiet("mart_path")
        say("  mart path: dbt build --select +fct_learner_weeks (models and seeds) ...")
        mart_path = project.run(
            "build",
            "--select",
            "+fct_learner_weeks",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            name="mart_path",
        )
        result["mart_path"] = mart_path.summary()
        fresh(warehouse)

    quiet("full_build")
    shutil.rmtree(model_store, ignore_errors=True)
    say("  full build: dbt build ...")
    full = project.run("build", *options.exclude_args, name="full_build")
    result["full_build"] = full.summary()
    result["full_build"]["log_rows"] = held.rows_kept
    result["full_build"]["nodes"] = full.nodes
    if not full.ok:
        say(
            f"  the full build failed ({len(full.failures)} nodes): "
            f"see {run_dir / 'full_build.log'}"
        )

    if "floor" not in skip:
        quiet("floor")
        say("  floor: one query over the log ...")
        floor_file = run_dir / "floor.duckdb"
        floor = run_measured(
            [
                sys.executable,
                "-m",
                "moodle_analytics.bench.floor",
                "--source",
                str(source),
                "--warehouse",
                str(floor_file),
            ],
            env=env,
            log_file=run_dir / "floor.log",
        )
        floor_file.unlink(missing_ok=True)
        result["floor"] = {
            "seconds": round(floor.seconds, 2),
            "peak_gb": round(floor.peak_gb, 3),
            "cpu_seconds": round(floor.cpu_seconds, 1),
            "returncode": floor.returncode,
        }

    if "notebook" not in skip:
        quiet("notebook")
        say("  notebook: the learner-week features in pandas ...")
        features_file = run_dir / "notebook_features.parquet"
        notebook = run_measured(
            [
                sys.executable,
                "-m",
                "moodle_analytics.bench.notebook",
                "--source",
                str(source),
                "--out",
                str(features_file),
            ],
            env=env,
            log_file=run_dir / "notebook.log",
        )
        result["notebook"] = {
            "seconds": round(notebook.seconds, 2),
            "peak_gb": round(notebook.peak_gb, 3),
            "cpu_seconds": round(notebook.cpu_seconds, 1),
            "returncode": notebook.returncode,
        }
        if first and notebook.returncode == 0:
            import duckdb
            import pandas as pd

            try:
                mart = read_mart(warehouse)
            except duckdb.Error as error:
                result["notebook"]["check"] = {"equal": None, "error": str(error)}
            else:
                result["notebook"]["check"] = compare_with_mart(
                    pd.read_parquet(features_file), mart
                )
        features_file.unlink(missing_ok=True)

    if options.postgres and site.target_rows <= options.postgres_max_rows and first:
        from moodle_analytics.bench.postgres import postgres_build

        quiet("postgres")
        try:
            result["postgres"] = postgres_build(
                source,
                PROJECT_DIR,
                options.profiles_dir,
                run_dir / "postgres",
                env,
                say,
                build_args=options.exclude_args,
            )
        except Exception as error:
            # Reported in the figures: the DuckDB measures and the other sizes go on.
            result["postgres"] = {"error": f"{type(error).__name__}: {error}"}
            say(f"  postgres: {type(error).__name__}: {error}")

    # A failing data test does not stop the incremental run; a build that
    # never got to run its nodes does.
    if "incremental" not in skip and full.dbt_seconds is not None:
        put_back(source, held_back_file)
        quiet("incremental")
        say(f"  incremental: dbt build after {held.rows:,} new log rows ...")
        incremental = project.run("build", *options.exclude_args, name="incremental_build")
        result["incremental"] = incremental.summary()
        result["incremental"]["new_rows"] = held.rows
        result["incremental"]["slowest_nodes"] = incremental.slowest()
    return result


def median(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def summarise(label: str, runs: list[dict]) -> dict:
    """The median over runs of each figure of the table."""

    def figure(*path: str) -> float | None:
        values = []
        for run in runs:
            value = run
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            values.append(value)
        return median(values)

    full = figure("full_build", "seconds")
    full_peak = figure("full_build", "peak_gb")
    rows = figure("full_build", "log_rows")
    floor = figure("floor", "seconds")
    notebook = figure("notebook", "seconds")
    notebook_peak = figure("notebook", "peak_gb")
    incremental = figure("incremental", "seconds")
    mart_path = figure("mart_path", "seconds")
    check = runs[0].get("notebook", {}).get("check")
    postgres = runs[0].get("postgres", {})

    def ratio(top, bottom):
        return round(top / bottom, 2) if top is not None and bottom else None

    return {
        "size": label,
        "log_rows": rows,
        "full_build_ok": all(run["full_build"]["returncode"] == 0 for run in runs),
        "full_build_seconds": full,
        "full_build_peak_gb": full_peak,
        "full_build_cpu_seconds": figure("full_build", "cpu_seconds"),
        "rows_per_second": round(rows / full) if rows and full else None,
        "load_average_at_full_build": figure("load_average", "full_build"),
        "models_seconds": figure("full_build", "seconds_by_type", "model"),
        "tests_seconds": figure("full_build", "seconds_by_type", "test"),
        "unit_tests_seconds": figure("full_build", "seconds_by_type", "unit_test"),
        "parse_seconds": figure("parse", "seconds"),
        "mart_path_seconds": mart_path,
        "mart_path_peak_gb": figure("mart_path", "peak_gb"),
        "mart_path_cpu_seconds": figure("mart_path", "cpu_seconds"),
        "incremental_seconds": incremental,
        "incremental_rows": figure("incremental", "new_rows"),
        "incremental_cpu_seconds": figure("incremental", "cpu_seconds"),
        "incremental_share_of_full": ratio(incremental, full),
        "floor_seconds": floor,
        "floor_peak_gb": figure("floor", "peak_gb"),
        "floor_cpu_seconds": figure("floor", "cpu_seconds"),
        "full_over_floor": ratio(full, floor),
        "mart_path_over_floor": ratio(mart_path, floor),
        "notebook_seconds": notebook,
        "notebook_peak_gb": notebook_peak,
        "notebook_cpu_seconds": figure("notebook", "cpu_seconds"),
        "notebook_over_full": ratio(notebook, full),
        "notebook_over_mart_path": ratio(notebook, mart_path),
        "notebook_memory_over_full": ratio(notebook_peak, full_peak),
        "notebook_equals_mart": None if check is None else check["equal"],
        "postgres_load_seconds": postgres.get("load_seconds"),
        "postgres_build_seconds": postgres.get("build", {}).get("seconds"),
        "postgres_peak_gb": postgres.get("build", {}).get("peak_gb"),
        "postgres_ok": (
            postgres.get("build", {}).get("returncode") == 0 if "build" in postgres else None
        ),
        "postgres_error": postgres.get("error"),
    }


# -- the table and the targets ----------------------------------------------------

ROWS = [
    ("log rows (full build)", "log_rows", "{:,.0f}"),
    ("full build, s", "full_build_seconds", "{:.1f}"),
    ("full build, CPU s", "full_build_cpu_seconds", "{:.0f}"),
    ("full build, peak GB", "full_build_peak_gb", "{:.2f}"),
    ("full build, log rows/s", "rows_per_second", "{:,.0f}"),
    ("  load average at start", "load_average_at_full_build", "{:.1f}"),
    ("  models (sum of nodes), s", "models_seconds", "{:.1f}"),
    ("  data tests (sum), s", "tests_seconds", "{:.1f}"),
    ("  unit tests (sum), s", "unit_tests_seconds", "{:.1f}"),
    ("dbt parse, s", "parse_seconds", "{:.1f}"),
    ("mart path build, s", "mart_path_seconds", "{:.1f}"),
    ("mart path build, CPU s", "mart_path_cpu_seconds", "{:.0f}"),
    ("incremental build, s", "incremental_seconds", "{:.1f}"),
    ("  CPU s", "incremental_cpu_seconds", "{:.0f}"),
    ("  new log rows", "incremental_rows", "{:,.0f}"),
    ("  share of full build", "incremental_share_of_full", "{:.0%}"),
    ("floor query, s", "floor_seconds", "{:.1f}"),
    ("  CPU s", "floor_cpu_seconds", "{:.0f}"),
    ("  full build / floor", "full_over_floor", "{:.1f}x"),
    ("  mart path / floor", "mart_path_over_floor", "{:.1f}x"),
    ("pandas notebook, s", "notebook_seconds", "{:.1f}"),
    ("pandas notebook, CPU s", "notebook_cpu_seconds", "{:.0f}"),
    ("pandas notebook, peak GB", "notebook_peak_gb", "{:.2f}"),
    ("  pandas / full build, time", "notebook_over_full", "{:.2f}x"),
    ("  pandas / mart path, time", "notebook_over_mart_path", "{:.2f}x"),
    ("  pandas / full build, memory", "notebook_memory_over_full", "{:.2f}x"),
    ("  pandas equals the mart", "notebook_equals_mart", "{}"),
    ("postgres load, s", "postgres_load_seconds", "{:.1f}"),
    ("postgres full build, s", "postgres_build_seconds", "{:.1f}"),
    ("postgres peak GB (dbt + server)", "postgres_peak_gb", "{:.2f}"),
]


def format_table(summaries: list[dict]) -> str:
    header = ["measure", *(summary["size"] for summary in summaries)]
    lines = [header]
    for title, key, pattern in ROWS:
        values = [summary.get(key) for summary in summaries]
        if all(value is None for value in values):
            continue
        lines.append([title, *("-" if v is None else pattern.format(v) for v in values)])
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    text = []
    for index, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        text.append("  ".join(cells))
        if index == 0:
            text.append("  ".join("-" * width for width in widths))
    return "\n".join(text)


def evaluate_targets(summaries: list[dict]) -> list[dict]:
    """The issue's targets, met or not, for the sizes measured."""
    by_size = {summary["size"]: summary for summary in summaries}
    targets = []

    def add(target: str, value, met) -> None:
        if value is not None:
            targets.append({"target": target, "value": value, "met": bool(met)})

    ten = by_size.get("10M", {})
    add(
        "10M: full build under 90 s",
        ten.get("full_build_seconds"),
        (ten.get("full_build_seconds") or 1e9) < 90,
    )
    add(
        "10M: full build peak under 3 GB",
        ten.get("full_build_peak_gb"),
        (ten.get("full_build_peak_gb") or 1e9) < 3,
    )
    add(
        "10M: pandas at least 5x the full build's time",
        ten.get("notebook_over_full"),
        (ten.get("notebook_over_full") or 0) >= 5,
    )
    add(
        "10M: pandas at least 3x the full build's memory",
        ten.get("notebook_memory_over_full"),
        (ten.get("notebook_memory_over_full") or 0) >= 3,
    )
    hundred = by_size.get("100M", {})
    add(
        "100M: full build under 15 minutes",
        hundred.get("full_build_seconds"),
        (hundred.get("full_build_seconds") or 1e9) < 900,
    )
    for summary in summaries:
        share = summary.get("incremental_share_of_full")
        add(
            f"{summary['size']}: incremental under 10% of the full build",
            share,
            (share or 1) < 0.10,
        )
        over = summary.get("full_over_floor")
        add(f"{summary['size']}: full build within 4x the floor", over, (over or 1e9) <= 4)
    return targets


# -- main -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    try:
        sizes = [parse_size(size) for size in options.sizes.split(",") if size.strip()]
        options.postgres_max_rows = parse_size(options.postgres_max)
    except ValueError as error:
        parser.error(str(error))
    if options.with_100m and 100_000_000 not in sizes:
        sizes.append(100_000_000)
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    options.exclude_args = ["--exclude", *options.exclude] if options.exclude else []
    options.skip_set = {item.strip() for item in options.skip.split(",") if item.strip()}
    unknown = options.skip_set - set(MEASURES)
    if unknown:
        parser.error(f"--skip: unknown measures {sorted(unknown)}; use any of {MEASURES}")
    profiles = options.profiles_dir / "profiles.yml"
    try:
        cli_options.input_file(profiles, "--profiles-dir")
        cli_options.output_file(options.out, "--out")
        cli_options.output_directory(options.work_dir, "--work-dir")
    except cli_options.InputError as error:
        return cli_options.fail(PROG, error)

    def say(message: str) -> None:
        print(message, flush=True)

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
        readers = [profiles, *sorted((PROJECT_DIR / "macros").glob("*.sql"))]
        if not any("DUCKDB_MEMORY_LIMIT" in reader.read_text() for reader in readers):
            say(f"{PROG}: warning: neither {profiles} nor a macro reads DUCKDB_MEMORY_LIMIT")
            settings["duckdb_memory_limit_ignored_by_dbt"] = True

    work_dir = options.work_dir.resolve()
    report: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": settings,
        "sizes": [],
    }
    summaries = []
    for rows in sizes:
        try:
            site = ensure_site(work_dir, rows, say=say)
        except BenchDataError as error:
            return cli_options.fail(PROG, error)
        runs = []
        for repetition in range(options.repeat):
            say(f"[{site.label}] run {repetition + 1} of {options.repeat}")
            run_dir = work_dir / site.label / "run"
            runs.append(bench_run(site, options, env, run_dir, repetition == 0, say))
        summary = summarise(site.label, runs)
        summaries.append(summary)
        report["sizes"].append(
            {
                "size": site.label,
                "generated_log_rows": site.log_rows,
                "generation_seconds": site.generation_seconds,
                "summary": summary,
                "runs": runs,
            }
        )
        # Written after every size, so a long run keeps what it has measured.
        report["targets"] = evaluate_targets(summaries)
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(report, indent=2) + "\n")

    say("")
    say(
        f"moodle-bench, {report['date'][:10]}, {report['machine']['cpu']}, "
        f"{report['machine']['cores']} cores, {report['machine']['memory_gb']} GB"
    )
    say(format_table(summaries))
    say("")
    for target in report["targets"]:
        say(f"{'met    ' if target['met'] else 'NOT met'}  {target['target']}: {target['value']}")
    say(f"\nfigures: {options.out}")
    failed = [summary["size"] for summary in summaries if not summary["full_build_ok"]]
    if failed:
        say(f"{PROG}: the full build failed for {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
