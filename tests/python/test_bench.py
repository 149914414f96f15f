"""The benchmark's code paths on small data (the benchmark itself is not a test)."""

from __future__ import annotations

import json
import shutil
import sys
import time

import duckdb
import pandas as pd
import pytest

from moodle_analytics.bench import cli, notebook, report
from moodle_analytics.bench.data import (
    LOG_TABLE,
    hold_back_newest,
    parse_size,
    put_back,
    size_label,
)
from moodle_analytics.bench.dbt_runs import DbtRun, read_run_results
from moodle_analytics.bench.floor import run_floor
from moodle_analytics.bench.measure import run_measured


@pytest.fixture(scope="module")
def notebook_features(built_demo) -> pd.DataFrame:
    settings = notebook.Settings.from_project()
    tables = notebook.load_tables(built_demo.source)
    return notebook.learner_week_features(tables, settings, now=int(time.time()))


def test_the_notebook_way_equals_the_mart(built_demo, notebook_features):
    mart = notebook.read_mart(built_demo.warehouse)
    check = notebook.compare_with_mart(notebook_features, mart)
    assert check["learner_weeks_compared"] == len(mart) > 1000
    assert check["mismatched_rows_per_column"] == {}
    assert check["equal"]
    # The demo has activity worth comparing, not only empty weeks.
    assert notebook_features["sessions"].sum() > 1000
    assert notebook_features["minutes_on_task"].sum() > 1000


def test_the_check_reports_what_differs(built_demo, notebook_features):
    mart = notebook.read_mart(built_demo.warehouse)
    changed = notebook_features.copy()
    changed.loc[changed.index[:3], "sessions"] += 1
    changed = changed.iloc[:-2]
    check = notebook.compare_with_mart(changed, mart)
    assert not check["equal"]
    assert check["mismatched_rows_per_column"] == {"sessions": 3}
    assert check["only_in_mart"] == 2


def test_another_session_gap_gives_other_sessions(built_demo, notebook_features):
    settings = notebook.Settings.from_project()
    settings.session_gap_seconds = 5 * 60
    tables = notebook.load_tables(built_demo.source)
    features = notebook.learner_week_features(tables, settings, now=int(time.time()))
    check = notebook.compare_with_mart(features, notebook.read_mart(built_demo.warehouse))
    assert "sessions" in check["mismatched_rows_per_column"]
    assert "events" not in check["mismatched_rows_per_column"]


def test_the_floor_groups_every_course_event_once(built_demo, tmp_path):
    rows = run_floor(built_demo.source, tmp_path / "floor.duckdb")
    with duckdb.connect(str(tmp_path / "floor.duckdb")) as connection:
        connection.execute(f"attach '{built_demo.source}' as moodle (read_only)")
        grouped, events = connection.execute(
            "select count(*), sum(events) from floor_learner_weeks"
        ).fetchone()
        expected = connection.execute(
            f"select count(*) from moodle.{LOG_TABLE} as log_rows "
            "inner join moodle.public.mdl_course as courses on log_rows.courseid = courses.id "
            "where log_rows.userid > 0 and courses.format <> 'site'"
        ).fetchone()[0]
    assert rows == grouped > 100
    assert events == expected


def test_held_back_rows_are_the_newest_and_come_back(built_demo, tmp_path):
    source = tmp_path / "source.duckdb"
    shutil.copyfile(built_demo.source, source)
    with duckdb.connect(str(source), read_only=True) as connection:
        before = connection.execute(f"select count(*), sum(id) from {LOG_TABLE}").fetchone()
    held = hold_back_newest(source, tmp_path / "held.duckdb", 0.02)
    assert 0.015 < held.share < 0.03
    assert held.rows + held.rows_kept == before[0]
    with duckdb.connect(str(source), read_only=True) as connection:
        newest_kept = connection.execute(
            f"select max(timecreated) from {LOG_TABLE} where timecreated < 2000000000"
        ).fetchone()[0]
    assert newest_kept <= held.from_epoch
    assert put_back(source, tmp_path / "held.duckdb") == held.rows
    with duckdb.connect(str(source), read_only=True) as connection:
        after = connection.execute(f"select count(*), sum(id) from {LOG_TABLE}").fetchone()
    assert after == before
    with pytest.raises(ValueError, match=r"between 0 and 0\.5"):
        hold_back_newest(source, tmp_path / "held.duckdb", 0.7)


def test_peak_memory_counts_the_children_of_a_command(tmp_path):
    # A child that starts a grandchild holding 300 MB, then waits for it.
    grandchild = "b = bytearray(300 * 1024**2); import time; time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    measured = run_measured([sys.executable, "-c", child], log_file=tmp_path / "out.log")
    assert measured.returncode == 0
    assert measured.peak_bytes > 300 * 1024**2
    assert measured.seconds > 1.4
    failed = run_measured([sys.executable, "-c", "raise SystemExit(3)"])
    assert failed.returncode == 3


def test_dbt_timing_per_node_comes_from_run_results(built_demo):
    results = json.loads((built_demo.directory / "target" / "run_results.json").read_text())
    run = DbtRun("dbt build", 1.0, 1, 0)
    read_run_results(run, results)
    assert {"model", "test"} <= set(run.seconds_by_type)
    assert len(run.nodes) == len(results["results"])
    assert run.failures == []
    assert run.slowest(3)[0]["seconds"] >= run.slowest(3)[-1]["seconds"]


def test_sizes_read_and_print_alike():
    assert parse_size("1M") == 1_000_000
    assert parse_size("250k") == 250_000
    assert parse_size("10_000_000") == 10_000_000
    assert size_label(100_000_000) == "100M"
    assert size_label(1_500) == "1500"
    for wrong in ("ten", "12", "1.5x"):
        with pytest.raises(ValueError):
            parse_size(wrong)


def run_figures(full: float, floor: float, notebook_seconds: float, ok: bool = True) -> dict:
    return {
        "held_back": {"rows": 100},
        "parse": {"seconds": 10.0},
        "full_build": {
            "seconds": full,
            "peak_gb": 1.0,
            "log_rows": 10_000_000,
            "returncode": 0 if ok else 1,
            "seconds_by_type": {"model": full / 2, "test": full / 3},
        },
        "floor": {"seconds": floor, "peak_gb": 0.5},
        "notebook": {"seconds": notebook_seconds, "peak_gb": 4.0, "check": {"equal": True}},
        "incremental": {"seconds": full / 20, "new_rows": 100_000},
    }


def test_the_summary_takes_medians_and_the_goals_say_met_or_not():
    runs = [run_figures(80, 10, 500), run_figures(100, 30, 300), run_figures(60, 20, 700)]
    summary = report.summarise("10M", runs)
    assert summary["full_build_seconds"] == 80
    assert summary["floor_seconds"] == 20
    assert summary["full_over_floor"] == 4.0
    assert summary["rows_per_second"] == 125_000
    assert summary["notebook_over_full"] == 6.25
    assert summary["notebook_memory_over_full"] == 4.0
    assert summary["notebook_equals_mart"] is True
    goals = {row["measure"]: row for row in report.goal_rows([summary])}
    full = goals["full dbt build (all models, risk, tests)"]
    assert full["met"] is True
    assert full["now"] == "80.0 s, 1.00 GB (0.16x the notebook's time)"
    assert full["reference"].startswith("134.8 s (215 CPU s), 4.26 GB")
    # The figures of the reference date stand beside this run's, with the speed-up.
    assert full["speed_up"] == round(134.8 / 80, 2)
    assert goals["incremental after 1% new rows"]["met"] is True
    slow = report.summarise("10M", [run_figures(200, 10, 150)])
    goals = {row["measure"]: row for row in report.goal_rows([slow])}
    assert goals["full dbt build (all models, risk, tests)"]["met"] is False
    table = report.format_table([summary, slow])
    assert "full build, s" in table and "80.0" in table and "200.0" in table
    assert "postgres" not in table
    printed = report.format_goals(report.goal_rows([summary]))
    assert "2026-12-04" in printed and "51.0 s, 1.09x faster than pandas (55.5 s)" in printed
    with_cpu = report.summarise(
        "10M", [{**run_figures(80, 10, 500), "mart_path": {"seconds": 40.0, "cpu_seconds": 30.0}}]
    )
    (mart,) = [
        row for row in report.goal_rows([with_cpu]) if row["measure"].startswith("mart path")
    ]
    assert mart["now"].startswith("40.0 s (30 CPU s), 12.50x faster than pandas")


def test_a_size_without_a_measure_leaves_its_goal_open():
    demo = report.summarise("demo", [{"full_build": {"seconds": 18.5, "returncode": 0}}])
    (row,) = report.goal_rows([demo])
    assert row["now"] == "18.5 s" and row["reference"] == "52.0 s" and row["met"] is True
    demo = report.summarise(
        "demo", [{"full_build": {"seconds": 30, "cpu_seconds": 25, "returncode": 0}}]
    )
    assert report.goal_rows([demo])[0]["now"] == "30.0 s (25 CPU s)"
    no_notebook = run_figures(50, 5, 0)
    no_notebook.pop("notebook")
    ten = report.summarise("10M", [no_notebook])
    goals = {row["measure"]: row for row in report.goal_rows([ten])}
    assert goals["full dbt build (all models, risk, tests)"]["met"] is False
    assert goals["mart path (log to fct_learner_weeks)"]["now"] is None


def test_the_command_line_refuses_what_it_cannot_do(capsys):
    for arguments in (["--sizes", "ten"], ["--repeat", "0"], ["--skip", "everything"]):
        with pytest.raises(SystemExit) as raised:
            cli.main(arguments)
        assert raised.value.code == 2
    assert "unknown measures" in capsys.readouterr().err
