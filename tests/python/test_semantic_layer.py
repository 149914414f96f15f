"""The semantic layer (models/semantic): `mf query` on the built demo gives the marts'
own figures, for the headline metric as the README shows it and for every saved query
the dashboard's figures come from; every metric, semantic model and saved query is
described."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbt_project import BIN_DIR, PROJECT_DIR, Workspace
from mart_compare import manifest_of

MF = BIN_DIR / "mf"
HEADLINE_METRICS = {
    "weekly_active_learners",
    "active_days",
    "sessions",
    "time_on_task_minutes",
    "completion_rate",
    "dropout_rate",
    "on_time_submission_rate",
    "learners_at_risk",
    "mean_risk",
}
SAVED_QUERIES = (
    "course_weekly_engagement",
    "site_engagement_trend",
    "course_outcomes",
    "risk_now_by_course",
)
# Not the project's own files: mf reads target/ of the project directory, so the
# tests give it a directory of links to the project with the workspace's target.
LEFT_OUT = {"target", "logs", "data", ".venv", ".git", "site", "artifacts", "dbt_packages"}
# Several queries in one Python process: MetricFlow takes seconds to start.
RUN_SAVED_QUERIES = """
import json, sys
from click.testing import CliRunner
from dbt_metricflow.cli.main import cli

for name, out in json.loads(sys.argv[1]):
    result = CliRunner().invoke(cli, ["query", "--saved-query", name, "--quiet", "--csv", out])
    if result.exit_code != 0:
        sys.exit(f"mf query --saved-query {name} failed:\\n{result.output}")
"""

Rows = dict[tuple, dict[str, float | None]]


@dataclass
class SemanticLayer:
    workspace: Workspace
    project: Path

    @property
    def env(self) -> dict[str, str]:
        return dict(self.workspace.env, DBT_PROJECT_DIR=str(self.project))

    def run(self, command: list[str]) -> subprocess.CompletedProcess:
        result = subprocess.run(
            command, cwd=self.project, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture(scope="module")
def semantic(built_demo, tmp_path_factory) -> SemanticLayer:
    if not MF.exists():
        pytest.fail("mf is not installed: run `make metricflow-venv`", pytrace=False)
    project = tmp_path_factory.mktemp("mf_project")
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in LEFT_OUT:
            (project / entry.name).symlink_to(entry)
    (project / "target").symlink_to(built_demo.directory / "target")
    return SemanticLayer(built_demo, project)


@pytest.fixture(scope="module")
def saved_queries(semantic, tmp_path_factory) -> dict[str, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("saved_queries")
    runs = [(name, str(out / f"{name}.csv")) for name in SAVED_QUERIES]
    semantic.run([sys.executable, "-c", RUN_SAVED_QUERIES, json.dumps(runs)])
    return {name: read_csv(Path(path)) for name, path in runs}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def keyed(rows, keys: tuple[str, ...], values: tuple[str, ...]) -> Rows:
    """Rows (mf CSV or DuckDB records) by their group-by values, as text."""
    return {
        tuple(str(row[key])[:10] for key in keys): {value: number(row[value]) for value in values}
        for row in rows
    }


def assert_same(got: Rows, expected: Rows) -> None:
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        for name, value in values.items():
            mine = got[key][name]
            same = (mine is None and value is None) or (
                mine is not None
                and value is not None
                and math.isclose(mine, value, rel_tol=1e-9, abs_tol=1e-12)
            )
            assert same, (key, name, mine, value)


def records(workspace: Workspace, sql: str) -> list[dict]:
    return (
        workspace.frame(sql)
        .astype(object)
        .where(lambda frame: frame.notna(), None)
        .to_dict("records")
    )


def test_weekly_active_learners_by_week_equal_fct_course_weeks(semantic, tmp_path):
    out = tmp_path / "weekly_active_learners.csv"
    semantic.run(
        [
            str(MF),
            "query",
            "--metrics",
            "weekly_active_learners",
            "--group-by",
            "metric_time__week",
            "--csv",
            str(out),
        ]
    )
    got = keyed(read_csv(out), ("metric_time__week",), ("weekly_active_learners",))
    # A course week of a course with a start date is one calendar week for all its
    # learners; a self-paced course starts each learner's week 1 at their enrolment,
    # so its learners count in their own calendar weeks (fct_learner_weeks).
    expected = records(
        semantic.workspace,
        """
        with by_week as (
            select date_trunc('week', w.week_starts_at) as metric_time__week,
                   w.learners_active as active
            from analytics_marts.fct_course_weeks as w
            inner join analytics_marts.dim_courses as c on w.course_id = c.course_id
            where c.starts_at is not null
            union all
            select w.calendar_week_starting, case when w.is_active then 1 else 0 end
            from analytics_marts.fct_learner_weeks as w
            inner join analytics_marts.dim_courses as c on w.course_id = c.course_id
            where c.starts_at is null
        )
        select metric_time__week, sum(active) as weekly_active_learners
        from by_week group by metric_time__week
        """,
    )
    assert len(got) > 50
    assert_same(got, keyed(expected, ("metric_time__week",), ("weekly_active_learners",)))


def test_weekly_engagement_by_course_week_equals_the_marts(semantic, saved_queries):
    keys = ("course", "learner_week__course_week_number")
    metrics = (
        "weekly_active_learners",
        "learners_followed",
        "weekly_active_share",
        "active_days",
        "sessions",
        "time_on_task_minutes",
    )
    expected = records(
        semantic.workspace,
        """
        select w.course_id as course, w.course_week_number as learner_week__course_week_number,
               cw.learners_active as weekly_active_learners,
               cw.learners_followed, cw.active_share as weekly_active_share,
               sum(w.active_days) as active_days, sum(w.sessions) as sessions,
               sum(w.minutes_on_task) as time_on_task_minutes
        from analytics_marts.fct_learner_weeks as w
        inner join analytics_marts.fct_course_weeks as cw
            on w.course_id = cw.course_id and w.course_week_number = cw.course_week_number
        group by all
        """,
    )
    got = keyed(saved_queries["course_weekly_engagement"], keys, metrics)
    assert len(got) > 200
    assert_same(got, keyed(expected, keys, metrics))


def test_engagement_trend_equals_the_learner_weeks(semantic, saved_queries):
    metrics = (
        "weekly_active_learners",
        "learners_followed",
        "distinct_active_learners",
        "time_on_task_minutes",
    )
    expected = records(
        semantic.workspace,
        """
        select calendar_week_starting as metric_time__week,
               sum(case when is_active then 1 else 0 end) as weekly_active_learners,
               count(*) as learners_followed,
               count(distinct case when is_active then learner_id end)
                   as distinct_active_learners,
               sum(minutes_on_task) as time_on_task_minutes
        from analytics_marts.fct_learner_weeks
        where is_complete_week
        group by calendar_week_starting
        """,
    )
    got = keyed(saved_queries["site_engagement_trend"], ("metric_time__week",), metrics)
    assert_same(got, keyed(expected, ("metric_time__week",), metrics))


def test_outcomes_by_course_equal_dim_courses(semantic, saved_queries):
    metrics = (
        "learner_courses_with_known_outcome",
        "completion_rate",
        "dropout_rate",
        "on_time_submission_rate",
    )
    expected = records(
        semantic.workspace,
        """
        select c.course_id as course,
               sum(case when f.is_outcome_known then 1 else 0 end)
                   as learner_courses_with_known_outcome,
               c.completion_rate, c.dropout_rate,
               sum(f.deadlines_met_on_time) / nullif(sum(f.deadlines_passed), 0)
                   as on_time_submission_rate
        from analytics_marts.dim_courses as c
        inner join analytics_marts.fct_learner_courses as f on c.course_id = f.course_id
        group by all
        """,
    )
    got = keyed(saved_queries["course_outcomes"], ("course",), metrics)
    assert any(values["dropout_rate"] for values in got.values())
    assert_same(got, keyed(expected, ("course",), metrics))


def test_risk_now_by_course_equals_the_latest_risk_scores(semantic, saved_queries):
    metrics = ("learners_at_risk", "mean_risk")
    expected = records(
        semantic.workspace,
        """
        select course_id as course,
               count(distinct case when risk_band in ('high', 'medium')
                     then learner_course_id end) as learners_at_risk,
               avg(dropout_probability) as mean_risk
        from analytics_ml.fct_learner_risk_scores
        where is_latest_week
        group by course_id
        """,
    )
    got = keyed(saved_queries["risk_now_by_course"], ("course",), metrics)
    assert any(values["learners_at_risk"] for values in got.values())
    assert_same(got, keyed(expected, ("course",), metrics))


def test_every_metric_semantic_model_and_saved_query_is_described(semantic):
    manifest = manifest_of(semantic.workspace.directory / "target")
    metrics = {metric["name"]: metric for metric in manifest["metrics"].values()}
    assert set(metrics) >= HEADLINE_METRICS
    resources = [
        *metrics.values(),
        *manifest["semantic_models"].values(),
        *manifest["saved_queries"].values(),
    ]
    assert not [r["name"] for r in resources if len(r.get("description") or "") < 20]
    assert {q["name"] for q in manifest["saved_queries"].values()} == set(SAVED_QUERIES)
    for model in manifest["semantic_models"].values():
        for part in (*model["dimensions"], *model["measures"]):
            assert part.get("description"), (model["name"], part["name"])


def test_the_time_spine_holds_every_day_of_the_marts(semantic):
    first, last, days, missing = semantic.workspace.query(
        """
        select min(date_day), max(date_day), count(distinct date_day),
               (select count(*) from analytics_marts.fct_learner_weeks
                where calendar_week_starting not in
                    (select date_day from analytics_semantic.metricflow_time_spine))
        from analytics_semantic.metricflow_time_spine
        """
    )[0]
    assert (str(first), str(last), days, missing) == ("2000-01-01", "2049-12-31", 18263, 0)
