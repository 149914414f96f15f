"""moodle-risk-evaluate on the built demo: a school's file with the learners'
outcomes is loaded, joined inside dbt (what cannot be matched is reported,
never guessed), measured by course week against scikit-learn's figures,
drawn, and shown on the dashboard with the outcome's name."""

from __future__ import annotations

import re
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dbt_project import PROJECT_DIR
from moodle_analytics.dashboard import build_dashboard
from moodle_analytics.dashboard.warehouse import Target
from moodle_analytics.risk.evaluate import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def evaluated(built_demo, tmp_path_factory):
    """A copy of the demo warehouse with the demo's outcomes evaluated."""
    directory = tmp_path_factory.mktemp("evaluate")
    warehouse = directory / "moodle_analytics.duckdb"
    shutil.copy(built_demo.warehouse, warehouse)
    truth = pd.read_csv(built_demo.ground_truth)
    finished = truth[truth.course_finished & (truth.outcome != "in_progress")]
    rows = finished[["user_id", "course_id", "outcome"]].copy()
    extra = pd.DataFrame(
        {
            "user_id": [999_999, rows.user_id.iloc[0], rows.user_id.iloc[1]],
            "course_id": [rows.course_id.iloc[0], rows.course_id.iloc[0], rows.course_id.iloc[1]],
            "outcome": ["failed", "passed", "withdrawn"],
        }
    )
    outcomes = directory / "outcomes.csv"
    pd.concat([extra, rows]).to_csv(outcomes, index=False)
    plot = directory / "evaluation.png"
    arguments = [
        str(outcomes),
        "--learner-column=user_id",
        "--learner-key=user_id",
        "--course-column=course_id",
        "--course-key=course_id",
        "--result-column=outcome",
        "--fail-values=failed,dropped_out,never_started",
        "--pass-values=passed",
        "--outcome-name=did not pass",
        f"--warehouse={warehouse}",
        f"--source={built_demo.source}",
        f"--project-dir={PROJECT_DIR}",
        f"--plot={plot}",
    ]
    return directory, warehouse, finished, arguments


def run(arguments, monkeypatch, capsys, directory):
    monkeypatch.setenv("DBT_TARGET_PATH", str(directory / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(directory / "logs"))
    status = main(arguments)
    return status, capsys.readouterr()


def test_the_demo_outcomes_are_joined_measured_and_drawn(
    built_demo, evaluated, monkeypatch, capsys
):
    directory, warehouse, finished, arguments = evaluated
    status, printed = run(arguments, monkeypatch, capsys, directory)
    assert status == 0, printed.err
    out = printed.out
    assert "Outcome: did not pass, from outcomes.csv" in out
    # The stranger (with the ground truth's people who are no learners of the
    # course), the learner named twice (both rows) and the unknown result.
    strangers = re.search(r"no_such_learner: (\d+) \(learner keys '999999'", out)
    assert strangers, out
    assert "duplicate_outcome: 2" in out
    assert "no_usable_outcome: 1" in out and "result 'withdrawn' is neither" in out
    # The first learner's two rows are left out; the second's unusable row alone is.
    matched = len(finished) - 1 - (int(strangers.group(1)) - 1)
    assert f"{matched:,} matched" in out
    assert "ROC AUC by course week" in out and "high+medium recall" in out
    assert (directory / "evaluation.png").read_bytes()[:4] == b"\x89PNG"

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.execute(f"attach '{built_demo.source}' as moodle (read_only)")
        table = connection.execute("select * from analytics_ml.rpt_risk_evaluation").df()
        week = connection.execute(
            """
            select scores.dropout_probability, outcomes.is_positive
            from analytics_ml.fct_learner_risk_scores as scores
            inner join analytics_intermediate.int_learner_outcomes_matched as outcomes
                on scores.learner_course_id = outcomes.learner_course_id
            where scores.course_week_number = 5
            """
        ).df()
    assert set(table.score_name) >= {"risk_score", "starter_score", "minus_events_so_far"}
    assert (table.outcome_name == "did not pass").all()
    assert (table.matched_learner_courses == matched).all()
    # The figures, recomputed with scikit-learn from the scores and the matches.
    served = table[(table.score_name == "risk_score") & (table.course_week_number == 5)].iloc[0]
    assert served.learner_courses == len(week)
    assert served.roc_auc == pytest.approx(
        roc_auc_score(week.is_positive, week.dropout_probability)
    )
    assert served.roc_auc_low < served.roc_auc < served.roc_auc_high
    flagged = week.dropout_probability >= 0.25
    assert served.high_or_medium_recall == pytest.approx(
        (flagged & week.is_positive).sum() / week.is_positive.sum()
    )
    assert np.isfinite(table.roc_auc).all()

    page = build_dashboard(
        Target("duckdb", warehouse, source=built_demo.source), directory / "page.html"
    )
    section = next(s for s in page.sections if s.id == "risk-evaluation")
    assert section.available and 'data-chart="evaluation-auc"' in section.body
    assert "Outcome: <strong>did not pass</strong>" in section.body


def test_a_file_that_does_not_fit_the_options_stops_with_one_line(evaluated, monkeypatch, capsys):
    directory, _, _, arguments = evaluated
    status, printed = run(
        [*arguments, "--learner-column=StudentId"], monkeypatch, capsys, directory
    )
    assert status == 2
    assert printed.err.count("\n") == 1
    assert "no column 'StudentId' (--learner-column); the columns are: user_id" in printed.err
    status, printed = run(
        [*arguments, "--grade-column=outcome", "--pass-mark=40"], monkeypatch, capsys, directory
    )
    assert status == 2 and "not both" in printed.err
