"""What moodle-bench prints: the median figures of each size, the goals with
the figures of 2026-12-04 beside today's, and which goals are met.

The goals and the reference figures are the project's performance brief: the
build on 2 cores measured by `make bench` on 2026-12-04, before the event
pipeline was rebuilt (one pass over the log, integer keys, a learner-day grain,
tests on aggregates and new rows).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

REFERENCE_DATE = "2026-12-04"
# Figures of REFERENCE_DATE by size: seconds, GB, shares.
REFERENCE = {
    "10M": {
        "mart_path_seconds": 51.0,
        "notebook_seconds": 55.5,
        "floor_seconds": 1.8,
        "full_build_seconds": 134.8,
        "full_build_cpu_seconds": 215,
        "full_build_peak_gb": 4.26,
        "incremental_seconds": 74.4,
    },
    "100M": {
        "full_build_seconds": 1422.2,
        "full_build_cpu_seconds": 2179,
        "full_build_peak_gb": 10.75,
        "incremental_seconds": 734.9,
        "floor_seconds": 32.5,
    },
    "demo": {"full_build_seconds": 52.0},
}


def median(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def ratio(top: float | None, bottom: float | None) -> float | None:
    return round(top / bottom, 2) if top is not None and bottom else None


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
    return {
        "size": label,
        "log_rows": rows,
        "full_build_ok": all(run["full_build"]["returncode"] == 0 for run in runs),
        "full_build_seconds": full,
        "full_build_peak_gb": full_peak,
        "full_build_cpu_seconds": figure("full_build", "cpu_seconds"),
        "full_build_nodes": figure("full_build", "node_count"),
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


# -- the table of every figure, by size ------------------------------------------

ROWS = [
    ("log rows (full build)", "log_rows", "{:,.0f}"),
    ("full build, s", "full_build_seconds", "{:.1f}"),
    ("full build, CPU s", "full_build_cpu_seconds", "{:.0f}"),
    ("full build, peak GB", "full_build_peak_gb", "{:.2f}"),
    ("full build, dbt nodes", "full_build_nodes", "{:.0f}"),
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


def aligned(lines: list[list[str]]) -> str:
    """Rows of cells as text columns: the first left-aligned, the others right."""
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    text = []
    for index, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        text.append("  ".join(cells))
        if index == 0:
            text.append("  ".join("-" * width for width in widths))
    return "\n".join(text)


def format_table(summaries: list[dict]) -> str:
    lines = [["measure", *(summary["size"] for summary in summaries)]]
    for title, key, pattern in ROWS:
        values = [summary.get(key) for summary in summaries]
        if all(value is None for value in values):
            continue
        lines.append([title, *("-" if v is None else pattern.format(v) for v in values)])
    return aligned(lines)


# -- the goals, then and now -------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """One line of the goals table: what is measured, how it reads, when it is met."""

    size: str
    name: str
    goal: str
    describe: Callable[[dict], str | None]
    met: Callable[[dict], bool]


def seconds(value: float) -> str:
    return f"{value:,.1f} s" if value < 1000 else f"{value:,.0f} s"


def timed(figures: dict, measure: str) -> str:
    """A measure's wall time, with its CPU time when known: on a shared machine
    the CPU seconds are what compares from one run to the next."""
    text = seconds(figures[f"{measure}_seconds"])
    cpu = figures.get(f"{measure}_cpu_seconds")
    return text + (f" ({cpu:,.0f} CPU s)" if cpu is not None else "")


def describe_mart_path(figures: dict) -> str | None:
    mart, notebook, floor = (figures.get(key) for key in MART_PATH_KEYS)
    if mart is None:
        return None
    parts = [timed(figures, "mart_path")]
    if notebook:
        parts.append(f"{notebook / mart:.2f}x faster than pandas ({seconds(notebook)})")
    if floor:
        parts.append(f"{mart / floor:.1f}x the floor ({seconds(floor)})")
    return ", ".join(parts)


MART_PATH_KEYS = ("mart_path_seconds", "notebook_seconds", "floor_seconds")


def describe_full_build(figures: dict) -> str | None:
    full, peak, notebook = (
        figures.get(key) for key in ("full_build_seconds", "full_build_peak_gb", "notebook_seconds")
    )
    if full is None:
        return None
    text = timed(figures, "full_build") + (f", {peak:.2f} GB" if peak is not None else "")
    return text + (f" ({full / notebook:.2f}x the notebook's time)" if notebook else "")


def describe_incremental(figures: dict) -> str | None:
    incremental, full = figures.get("incremental_seconds"), figures.get("full_build_seconds")
    if incremental is None:
        return None
    share = f", {incremental / full:.0%} of full" if full else ""
    return timed(figures, "incremental") + share


def within(figures: dict, key: str, limit: float) -> bool:
    value = figures.get(key)
    return value is not None and value <= limit


def mart_path_met(figures: dict) -> bool:
    mart, notebook, floor = (figures.get(key) for key in MART_PATH_KEYS)
    return bool(mart and notebook and floor and notebook / mart >= 5 and mart / floor <= 6)


def full_build_met(figures: dict) -> bool:
    full, notebook = figures.get("full_build_seconds"), figures.get("notebook_seconds")
    return bool(full and notebook and full <= notebook) and within(figures, "full_build_peak_gb", 3)


def incremental_met(figures: dict) -> bool:
    incremental, full = figures.get("incremental_seconds"), figures.get("full_build_seconds")
    return bool(incremental and full and incremental / full <= 0.10)


GOALS = [
    Goal(
        "10M",
        "mart path (log to fct_learner_weeks)",
        ">= 5x faster than pandas, <= 6x the floor",
        describe_mart_path,
        mart_path_met,
    ),
    Goal(
        "10M",
        "full dbt build (all models, risk, tests)",
        "no slower than the pandas notebook of the same run, <= 3 GB",
        describe_full_build,
        full_build_met,
    ),
    Goal(
        "10M",
        "incremental after 1% new rows",
        "<= 10% of full",
        describe_incremental,
        incremental_met,
    ),
    Goal(
        "100M",
        "full build",
        "<= 10 min, <= 8 GB for the whole process tree",
        describe_full_build,
        lambda figures: (
            within(figures, "full_build_seconds", 600) and within(figures, "full_build_peak_gb", 8)
        ),
    ),
    Goal(
        "demo",
        "default demo (423k log rows) dbt build",
        "<= 20 s",
        lambda figures: (
            None if figures.get("full_build_seconds") is None else timed(figures, "full_build")
        ),
        lambda figures: within(figures, "full_build_seconds", 20),
    ),
]


def goal_rows(summaries: list[dict]) -> list[dict]:
    """Each goal with the reference figures, today's, the speed-up and whether it is met."""
    by_size = {summary["size"]: summary for summary in summaries}
    rows = []
    for goal in GOALS:
        now = by_size.get(goal.size)
        if now is None:
            continue
        then = REFERENCE.get(goal.size, {})
        measured = measured_key(goal)
        speed_up = None
        if now.get(measured) and then.get(measured):
            speed_up = round(then[measured] / now[measured], 2)
        rows.append(
            {
                "size": goal.size,
                "measure": goal.name,
                "goal": goal.goal,
                "reference": goal.describe(then),
                "now": goal.describe(now),
                "speed_up": speed_up,
                "met": goal.met(now) if goal.describe(now) else None,
            }
        )
    return rows


def measured_key(goal: Goal) -> str:
    """The time a goal's speed-up is read from."""
    if goal.describe is describe_mart_path:
        return "mart_path_seconds"
    if goal.describe is describe_incremental:
        return "incremental_seconds"
    return "full_build_seconds"


def format_goals(rows: list[dict]) -> str:
    lines = [["", f"{REFERENCE_DATE}", "this run", "speed-up", "goal", "met"]]
    for row in rows:
        lines.append(
            [
                f"{row['size']} {row['measure']}",
                row["reference"] or "-",
                row["now"] or "-",
                "-" if row["speed_up"] is None else f"{row['speed_up']:.2f}x",
                row["goal"],
                {True: "yes", False: "no", None: "-"}[row["met"]],
            ]
        )
    return aligned(lines)
