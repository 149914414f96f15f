"""The risk tables of the default demo build: one honest score per
learner-week, reasons for everyone at risk, segments by the documented rule,
Python and SQL rules in agreement, and the report that measures them."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from dbt_project import Workspace
from moodle_analytics.risk import rules
from moodle_analytics.risk.backtest import backtest_table
from moodle_analytics.risk.report import main as report_main
from moodle_analytics.risk.settings import RiskSettings
from moodle_analytics.risk.starter import shipped_calibration, starter_columns, with_starter_columns

ML = "analytics_ml"
SETTINGS = RiskSettings()


@pytest.fixture(scope="module")
def features(built_demo) -> pd.DataFrame:
    return built_demo.frame(
        "select * from analytics_intermediate.int_risk_features order by learner_week_id"
    )


@pytest.fixture(scope="module")
def scores(built_demo) -> pd.DataFrame:
    return built_demo.frame(f"select * from {ML}.fct_learner_risk_scores order by learner_week_id")


def test_every_followed_learner_week_has_exactly_one_score(built_demo, features, scores):
    (learner_weeks,) = built_demo.query("select count(*) from analytics_marts.fct_learner_weeks")[0]
    assert len(features) == len(scores) == learner_weeks
    assert scores.learner_week_id.is_unique
    assert scores.learner_week_id.tolist() == features.learner_week_id.tolist()
    latest = scores[scores.is_latest_week]
    assert latest.learner_course_id.is_unique
    assert set(latest.learner_course_id) == set(scores.learner_course_id)


def test_probabilities_lie_in_0_1_and_each_row_carries_the_score_it_was_given(scores):
    assert scores.dropout_probability.between(0, 1).all()
    assert scores.rule_based_score.between(0, 1).all()
    assert scores.starter_score.dropna().between(0, 1).all()
    by_rule = scores[scores.score_method == "rule_based"]
    assert (by_rule.dropout_probability == by_rule.rule_based_score).all()
    assert by_rule.starter_score.isna().all()  # course weeks too small to compare within
    by_starter = scores[(scores.score_method == "starter") & scores.training_learner_courses.isna()]
    assert (by_starter.dropout_probability == by_starter.starter_score).all()
    # The first term has no history: the starter score; later terms: models.
    assert {"model", "starter"} <= set(scores.score_method)


def test_every_learner_at_risk_has_a_reason_with_its_figures(scores):
    at_risk = scores[scores.risk_band.isin(["high", "medium"])]
    assert len(at_risk) > 100
    assert at_risk.reason_1.notna().all()
    assert at_risk.reason_1.str.contains(r"\d").all()
    # A later reason only follows an earlier one.
    assert scores[scores.reason_2.notna()].reason_1.notna().all()
    assert scores[scores.reason_3.notna()].reason_2.notna().all()


def test_segments_follow_the_documented_rule(features, scores):
    expected = rules.segment(features, scores.risk_band, SETTINGS)
    assert (expected.to_numpy() == scores.segment.to_numpy()).all()
    assert set(scores.segment) == {"doing_well", "doing_ok", "struggling"}


def test_the_sql_starter_score_equals_the_python_one(built_demo, features, scores):
    in_sql = built_demo.frame(
        "select * from analytics_intermediate.int_risk_starter_scores order by learner_week_id"
    )
    python = starter_columns(features, SETTINGS.min_cohort_size)
    assert in_sql.learner_week_id.tolist() == features.learner_week_id.tolist()
    for column in in_sql.columns.drop(["learner_week_id", "starter_score"]):
        np.testing.assert_allclose(
            python[column].astype(float), in_sql[column].astype(float), atol=1e-9, err_msg=column
        )
    # The Python model's starter_score is the SQL one (the shipped calibration).
    np.testing.assert_allclose(scores.starter_score, in_sql.starter_score, atol=1e-9)
    assert in_sql.starter_raw_score.notna().mean() > 0.95


def test_the_sql_rules_equal_the_python_rules(built_demo, features):
    in_sql = built_demo.frame(
        "select * from analytics_intermediate.int_risk_rule_scores order by learner_week_id"
    )
    assert in_sql.learner_week_id.tolist() == features.learner_week_id.tolist()
    score = rules.rule_based_score(features)
    np.testing.assert_allclose(score.to_numpy(), in_sql.rule_based_score.to_numpy(), atol=1e-9)
    # In the database the starter score is served, the rule where it is unknown.
    features = with_starter_columns(features, SETTINGS.min_cohort_size)
    starter = shipped_calibration(SETTINGS).probability(features.starter_raw_score)
    served = pd.Series(starter).fillna(score)
    np.testing.assert_allclose(served, in_sql.dropout_probability, atol=1e-9)
    assert (in_sql.score_method == np.where(np.isnan(starter), "rule_based", "starter")).all()
    bands = rules.risk_band(served, SETTINGS)
    assert (bands.to_numpy() == in_sql.risk_band.to_numpy()).all()
    assert (rules.segment(features, bands, SETTINGS).to_numpy() == in_sql.segment.to_numpy()).all()
    found = rules.reasons(features, bands, SETTINGS)
    for column in ("reason_1", "reason_2", "reason_3"):
        python = found[column].fillna("<none>").to_numpy()
        sql = in_sql[column].fillna("<none>").to_numpy()
        different = np.flatnonzero(python != sql)
        assert not len(different), (column, python[different[:3]], sql[different[:3]])


def test_model_scores_learn_only_from_outcomes_known_before_their_week(built_demo, scores):
    modelled = scores[scores.score_method == "model"]
    assert len(modelled)
    assert (modelled.model_trained_until_at < modelled.observed_at).all()
    assert modelled.training_learner_courses.min() >= SETTINGS.min_training_learner_courses
    ends = built_demo.frame(
        "select learner_course_id, course_ends_at from analytics_marts.fct_learner_courses"
    )
    modelled = modelled.merge(ends, on="learner_course_id")
    assert (modelled.model_trained_until_at < modelled.course_ends_at).all()
    running = scores[scores.is_latest_week & ~scores.is_complete_week]
    assert len(running) and running.score_method.isin(["model", "starter"]).all()
    assert running.model_trained_until_at.notna().all()  # both learnt from the past


def test_the_comparison_covers_every_model_and_names_one_choice(built_demo):
    comparison = built_demo.frame(f"select * from {ML}.rpt_risk_model_comparison")
    assert set(comparison.model_name) == {*SETTINGS.models, "rule_based"}
    assert "starter" in SETTINGS.models  # a model must beat the starter score to serve
    chosen = comparison[comparison.is_chosen].model_name.unique()
    assert len(chosen) == 1 and chosen[0] in SETTINGS.models
    assert comparison.choice_reason.nunique() == 1
    assert comparison.choice_reason.iloc[0].startswith(f"{chosen[0]}: mean ROC AUC")
    weeks = comparison.dropna(subset=["course_week_number"])
    assert weeks.groupby("model_name").course_week_number.nunique().min() >= 14


def test_the_backtest_replays_every_week_of_the_finished_courses(built_demo):
    backtest = built_demo.frame(f"select * from {ML}.rpt_risk_backtest")
    overall = backtest[(backtest.cohort_name == "all") & (backtest.score_method == "model")]
    assert sorted(overall.course_week_number) == list(range(1, 15))
    assert overall.roc_auc.between(0, 1).all()
    (finished,) = built_demo.query(
        "select count(*) from analytics_marts.fct_learner_courses where is_outcome_known"
    )[0]
    week_one = backtest[(backtest.cohort_name == "all") & (backtest.course_week_number == 1)]
    assert 0 < week_one.learner_courses.sum() <= finished
    cohorts = backtest[backtest.cohort_name != "all"]
    per_week = cohorts.groupby(["course_week_number", "score_method"]).learner_courses.sum()
    everyone = backtest[backtest.cohort_name == "all"].set_index(
        ["course_week_number", "score_method"]
    )
    assert per_week.sort_index().equals(everyone.learner_courses.sort_index())


def test_the_sql_backtest_of_the_rule_equals_the_python_metrics(built_demo, features):
    # The in-database backtest (engines without Python models) against the
    # Python metrics of the same scores.
    rule_scores = built_demo.frame("select * from analytics_intermediate.int_risk_rule_scores")
    scores = rule_scores.assign(
        dropout_probability=rule_scores.rule_based_score,
        score_method="rule_based",
        model_name="rule_based",
    )
    courses = built_demo.frame("select course_id, starts_at from analytics_marts.dim_courses")
    python = backtest_table(scores, features, courses)
    sql = built_demo.frame(
        "select * from analytics_intermediate.int_risk_rule_backtest "
        "where score_name = 'rule_based'"
    )
    both = python.merge(sql, on=["cohort_name", "course_week_number"], suffixes=("", "_sql"))
    assert len(both) == len(python) == len(sql.dropna(subset=["course_week_number"]))
    for column in ("learner_courses", "dropouts", "f1_score", "top_decile_precision"):
        assert (both[column] == both[f"{column}_sql"]).all(), column
    for column in ("roc_auc", "pr_auc", "brier_score", "dropout_rate"):
        np.testing.assert_allclose(both[column], both[f"{column}_sql"], atol=1e-12, err_msg=column)


def test_the_tables_have_the_documented_types(built_demo):
    # The SQL twin of fct_learner_risk_scores has an enforced contract with
    # these types; the Python models must give the same.
    manifest = json.loads((built_demo.directory / "target" / "manifest.json").read_text())
    duckdb_names = {"double precision": "DOUBLE"}
    for name in (
        "fct_learner_risk_scores",
        "rpt_risk_model_comparison",
        "rpt_risk_backtest",
        "rpt_risk_evaluation",
        "rpt_risk_calibration",
    ):
        node = manifest["nodes"][f"model.moodle_analytics.{name}"]
        documented = [
            (column, duckdb_names.get(spec["data_type"], spec["data_type"].upper()))
            for column, spec in node["columns"].items()
        ]
        actual = built_demo.query(
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = '{ML}' and table_name = '{name}' order by ordinal_position"
        )
        assert documented == actual, name


def test_the_report_prints_auc_by_week_and_draws_the_backtest(built_demo, tmp_path, capsys):
    plot = tmp_path / "auc.png"
    status = report_main(
        [
            "--warehouse",
            str(built_demo.warehouse),
            "--ground-truth",
            str(built_demo.ground_truth),
            "--plot",
            str(plot),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "Against the demo's designed dropouts" in printed
    assert printed.count("week 3: ROC AUC") == 3  # finished, model-scored, running term
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report_main(["--warehouse", str(tmp_path / "none.duckdb")]) == 2


def test_exactly_one_of_each_risk_table_is_built_per_engine(built_demo, tmp_path):
    # dbt-postgres cannot run Python models: there the SQL twins in
    # in_database/ are the ones enabled. Listing needs no database connection.
    names = (
        "fct_learner_risk_scores",
        "rpt_risk_backtest",
        "rpt_risk_model_comparison",
        "rpt_risk_evaluation",
        "rpt_risk_calibration",
    )
    manifest = json.loads((built_demo.directory / "target" / "manifest.json").read_text())
    on_duckdb = {
        node["name"]: node["original_file_path"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] in names
    }
    python_files = {name: os.path.join("models", "marts", "ml", f"{name}.py") for name in names}
    assert on_duckdb == python_files
    postgres = Workspace(
        directory=tmp_path,
        source=built_demo.source,
        warehouse=built_demo.warehouse,
        ground_truth=built_demo.ground_truth,
        extra_env={
            "DBT_TARGET": "postgres",
            "MOODLE_PG_HOST": "127.0.0.1",
            "MOODLE_PG_PORT": "5432",
            "MOODLE_PG_USER": "nobody",
            "MOODLE_PG_PASSWORD": "unused",
        },
    )
    listing = postgres.dbt(
        "ls",
        "-s",
        *names,
        "--resource-type",
        "model",
        "--output",
        "json",
        "--output-keys",
        "name original_file_path",
        "--quiet",
    )
    lines = [json.loads(line) for line in listing.stdout.splitlines() if line.startswith("{")]
    on_postgres = {line["name"]: line["original_file_path"] for line in lines}
    assert on_postgres == {
        name: os.path.join("models", "marts", "ml", "in_database", f"{name}.sql") for name in names
    }
