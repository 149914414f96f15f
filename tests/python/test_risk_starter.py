"""The starter score (no dbt): each learner ranked against the same course
week, indicators the course does not show left out, a quiet week that
singles nobody out, a week's score that later weeks never change, and a
calibration that moves from the shipped one to the site's own history."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from moodle_analytics.risk import rules
from moodle_analytics.risk.scoring import score_learner_weeks
from moodle_analytics.risk.settings import RiskSettings, SettingsError
from moodle_analytics.risk.starter import (
    StarterCalibration,
    cohort_z,
    fit_calibration,
    starter_columns,
)
from risk_site import SMALL, synthetic_features

PROJECT = Path(__file__).resolve().parents[2]
START = pd.Timestamp("2026-01-05")


# The fixture of the dbt unit test the_starter_score_ranks_each_learner_against_the_course_week:
# five learners of course 2 over two weeks.
FIXTURE_COLUMNS = (
    "learner_course_id",
    "course_week_number",
    "events_so_far",
    "active_days_so_far",
    "days_since_last_activity",
    "submissions_so_far",
    "common_quizzes_attempted_so_far",
    "deadlines_missing_share",
    "deadlines_late_share",
    "quiz_average_so_far",
)
NONE = None
ENGAGEMENT = (
    "events_so_far",
    "active_days_so_far",
    "active_week_share",
    "days_since_last_activity",
)
FIXTURE_ROWS = [
    ("a", 1, 10, 3, 2, 0, 0, NONE, NONE, NONE),
    ("b", 1, 10, 3, 2, 0, 0, NONE, NONE, NONE),
    ("c", 1, 0, 0, 7, 0, 0, NONE, NONE, NONE),
    ("d", 1, 0, 0, 7, 0, 0, NONE, NONE, NONE),
    ("e", 1, 5, 2, 3, 0, 0, NONE, NONE, NONE),
    ("a", 2, 20, 6, 1, 1, 2, 0.0, 0.0, 0.9),
    ("b", 2, 10, 4, 8, 1, 2, 0.0, 0.0, 0.6),
    ("c", 2, 5, 2, 2, 0, 2, 1.0, 0.0, NONE),
    ("d", 2, 0, 0, 14, 0, 2, 1.0, 0.0, NONE),
    ("e", 2, 15, 5, 1, 1, 2, 0.0, 1.0, 0.7),
]


def five_learners() -> pd.DataFrame:
    frame = pd.DataFrame(FIXTURE_ROWS, columns=FIXTURE_COLUMNS)
    frame["learner_week_id"] = (
        frame["learner_course_id"] + "-" + frame["course_week_number"].astype(str)
    )
    frame["course_id"] = 2
    frame["week_one_starts_at"] = START
    frame["weeks_followed"] = frame["course_week_number"]
    return frame


def test_each_indicator_is_a_clipped_z_score_in_the_cohort_positive_when_worse():
    values = pd.Series([2.0, 4, 4, 4, 5, 5, 7, 9])  # mean 5, population sd 2
    cohorts = np.zeros(8, dtype=int)
    expected = np.array([-1.5, -0.5, -0.5, -0.5, 0, 0, 1, 2])
    np.testing.assert_allclose(cohort_z(values, cohorts, "higher", 5), expected, atol=1e-12)
    np.testing.assert_allclose(cohort_z(values, cohorts, "lower", 5), -expected, atol=1e-12)
    # One far-off learner counts as 3 standard deviations at most.
    outlier = pd.Series([0.0] * 20 + [100.0])
    assert cohort_z(outlier, np.zeros(21, dtype=int), "higher", 5).max() == 3.0
    # Too few values, or no spread: says nothing.
    assert cohort_z(values, cohorts, "lower", 9).isna().all()
    assert cohort_z(pd.Series([3.0] * 8), cohorts, "lower", 5).isna().all()


def test_the_raw_score_averages_the_groups_over_what_the_course_shows():
    features = five_learners()
    columns = starter_columns(features, min_cohort=5)
    # Same common quizzes attempted by all, quiz average known for 3 of 5: left out.
    assert columns["common_quizzes_attempted_so_far_z"].isna().all()
    assert columns["quiz_average_so_far_z"].isna().all()
    week_two = features["course_week_number"] == 2
    engagement = columns.loc[week_two, [f"{name}_z" for name in ENGAGEMENT]].mean(axis=1)
    coursework = columns.loc[week_two, ["submissions_so_far_z", "work_not_on_time_share_z"]]
    expected = (engagement + coursework.mean(axis=1)) / 2
    np.testing.assert_allclose(columns.loc[week_two, "starter_raw_score"], expected, atol=1e-12)
    # Week 1: nothing due, handed in or scored: engagement alone.
    week_one = ~week_two
    np.testing.assert_allclose(
        columns.loc[week_one, "starter_raw_score"],
        columns.loc[week_one, [f"{name}_z" for name in ENGAGEMENT]].mean(axis=1),
        atol=1e-12,
    )
    # log(1 + events): the learner with none is the furthest below.
    events = columns.loc[week_two, "events_so_far_z"]
    assert events.idxmax() == features.index[features["learner_week_id"] == "d-2"][0]
    np.testing.assert_allclose(
        events.to_numpy(), -stats_z(np.log1p([20, 10, 5, 0, 15])), atol=1e-12
    )
    assert columns["active_weeks_so_far"].tolist() == [1, 1, 0, 0, 1, 2, 1, 1, 0, 2]
    assert columns.loc[week_two, "course_median_days_since_last_activity"].unique().tolist() == [
        2.0
    ]
    # The worst learner of week 2 (no events, nothing handed in) is the riskiest.
    scores = dict(zip(features["learner_week_id"], columns["starter_raw_score"], strict=True))
    assert max(scores, key=scores.get) == "d-2"


def stats_z(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return (values - values.mean()) / values.std()


def test_a_quiet_week_for_the_whole_course_singles_nobody_out():
    site = synthetic_features(terms=1)
    quiet = site.copy()
    week = quiet["course_week_number"] == 3
    # A break: nobody does anything for a week, everyone is 7 days quieter.
    quiet.loc[week, "days_since_last_activity"] += 7
    before = starter_columns(site, SMALL.min_cohort_size)["starter_raw_score"]
    after = starter_columns(quiet, SMALL.min_cohort_size)["starter_raw_score"]
    # Judged against the course's own week: the same order of learners.
    np.testing.assert_allclose(before[~week], after[~week], atol=0)
    assert before[week].corr(after[week], method="spearman") > 0.999
    assert (before[week] - after[week]).abs().max() < 0.05
    # The rule-based score counts absolute days and moves everyone up.
    assert (rules.rule_based_score(quiet)[week] >= rules.rule_based_score(site)[week]).all()
    assert (rules.rule_based_score(quiet)[week] > rules.rule_based_score(site)[week]).mean() > 0.5


def test_a_week_s_starter_score_never_depends_on_later_weeks():
    site = synthetic_features(terms=1, current_week=3)
    full = starter_columns(site, SMALL.min_cohort_size)
    for week in (1, 2):
        known_then = site[site["course_week_number"] <= week]
        then = starter_columns(known_then, SMALL.min_cohort_size)
        pd.testing.assert_frame_equal(then, full.loc[known_then.index])


def test_a_course_week_too_small_to_rank_gets_the_rule_based_score():
    site = synthetic_features(terms=1, learners=4)
    run = score_learner_weeks(site, SMALL, log=lambda message: None)
    assert (run.scores.score_method == "rule_based").all()
    assert run.scores.starter_score.isna().all()
    assert (run.scores.dropout_probability == run.scores.rule_based_score).all()
    assert any("risk_min_cohort_size" in message for message in run.messages)


def test_a_site_with_a_few_finished_courses_calibrates_the_starter_on_them():
    # Two terms, and a model would need more history than the site has.
    site = synthetic_features(terms=2)
    settings = dataclasses.replace(
        SMALL, min_training_learner_courses=500, max_training_learner_courses=500
    )
    messages: list[str] = []
    scores = score_learner_weeks(site, settings, log=messages.append).scores
    assert (scores.score_method == "starter").all()
    second = scores[scores.course_id >= 20]
    finished = site[site.course_id < 20].learner_course_id.nunique()
    assert (second.training_learner_courses == finished).all()
    assert second.model_trained_until_at.notna().all()
    assert (second.model_trained_until_at < second.observed_at).all()
    first = scores[scores.course_id < 20]
    assert first.training_learner_courses.isna().all()  # nothing finished before them
    assert any(f"calibrated on {finished} finished learner-courses" in m for m in messages)
    # Calibrated on the site, the probabilities are near its dropout rate;
    # starter_score keeps the shipped scale.
    rate = site[site.course_id < 20].groupby("learner_course_id").is_dropout.first().mean()
    assert abs(second.dropout_probability.mean() - rate) < 0.1
    assert (second.dropout_probability != second.starter_score).all()
    assert (first.dropout_probability == first.starter_score).all()


def test_a_calibration_recovers_a_known_logistic_map():
    generator = np.random.default_rng(5)
    score = pd.Series(generator.random(20000))
    truth = StarterCalibration(intercept=-3.0, slope=5.0)
    labels = pd.Series(generator.random(20000) < truth.probability(score))
    fitted = fit_calibration(score, labels)
    assert fitted.intercept == pytest.approx(-3.0, abs=0.15)
    assert fitted.slope == pytest.approx(5.0, abs=0.25)
    with pytest.raises(ValueError, match="both outcomes"):
        fit_calibration(score, pd.Series(np.zeros(20000, dtype=bool)))


def test_the_shipped_calibration_is_the_dbt_variable_and_bad_ones_are_refused():
    variables = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]
    calibration = variables["risk_starter_calibration"]
    defaults = RiskSettings()
    assert (defaults.starter_intercept, defaults.starter_slope) == (
        calibration["intercept"],
        calibration["slope"],
    )
    parsed = RiskSettings.from_mapping({"risk_starter_calibration": {"intercept": -1, "slope": 3}})
    assert (parsed.starter_intercept, parsed.starter_slope) == (-1.0, 3.0)
    with pytest.raises(SettingsError, match="risk_starter_calibration"):
        RiskSettings.from_mapping({"risk_starter_calibration": {"intercept": 0, "slope": -2}})
    with pytest.raises(SettingsError, match="risk_starter_calibration"):
        RiskSettings.from_mapping({"risk_starter_calibration": 4})
