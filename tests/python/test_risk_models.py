"""Cross-validation, model choice, calibration and as-of scoring, on a small
synthetic site (no dbt): folds never share a learner or a course, a score
never learns from an outcome that was not known yet, and with too little
history the starter score takes over and says why."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.metrics import f1_score

from moodle_analytics.risk.metrics import f1_at, score_metrics, top_share_precision
from moodle_analytics.risk.scoring import (
    SCORE_COLUMNS,
    labelled_learner_courses,
    model_comparison_table,
    plan_refits,
    prefix_histories,
    score_learner_weeks,
    training_cutoffs,
)
from moodle_analytics.risk.settings import MODEL_NAMES, SettingsError
from moodle_analytics.risk.starter import with_starter_columns
from moodle_analytics.risk.validation import (
    choose_model,
    compare_models,
    fit_calibrator,
    grouped_folds,
)
from moodle_analytics.risk.zoo import MedianImputer
from risk_site import SMALL, synthetic_features


@pytest.fixture(scope="module")
def site() -> pd.DataFrame:
    return synthetic_features()


@pytest.fixture(scope="module")
def scored(site):
    return score_learner_weeks(site, SMALL, log=lambda message: None)


# ---------------------------------------------------------------- metrics and choice


def test_top_decile_precision_and_auc_on_known_rankings():
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.1, 0.0, 0.2, 0.1, 0.05])
    assert top_share_precision(labels, scores) == 1.0  # the single riskiest is a dropout
    assert top_share_precision(labels, scores, share=0.3) == pytest.approx(2 / 3)
    figures = score_metrics(labels, scores)
    assert figures["roc_auc"] == pytest.approx(15 / 21)
    assert math.isnan(score_metrics(np.zeros(4), np.arange(4.0))["roc_auc"])


def test_f1_counts_as_scikit_learns_does_including_nothing_flagged():
    rng = np.random.default_rng(7)
    for size in (1, 2, 5, 40):
        for _ in range(50):
            labels = rng.integers(0, 2, size)
            flagged = rng.random(size) < rng.random()
            assert f1_at(labels, flagged) == pytest.approx(
                f1_score(labels, flagged, zero_division=0)
            )
    assert f1_at(np.zeros(3, dtype=int), np.zeros(3, dtype=bool)) == 0.0
    assert f1_at(np.array([1, 0, 1]), np.array([True, False, False])) == pytest.approx(2 / 3)


def test_the_best_early_auc_wins_unless_a_simpler_model_is_within_the_margin():
    assert (
        choose_model({"logistic_regression": 0.900, "random_forest": 0.904})
        == "logistic_regression"
    )
    assert choose_model({"logistic_regression": 0.890, "random_forest": 0.904}) == "random_forest"
    assert (
        choose_model({"decision_tree": math.nan, "gradient_boosting": 0.7}) == "gradient_boosting"
    )


def test_the_median_imputer_fills_and_flags_as_scikit_learns_does():
    rng = np.random.default_rng(7)
    train = rng.normal(size=(500, 6))
    train[rng.random(train.shape) < 0.2] = np.nan
    train[:, 2] = np.nan  # a feature with no value at all
    train[:, 4] = np.round(train[:, 4])  # ties at the median
    train[:, 5] = np.where(np.isnan(train[:, 5]), 0.0, train[:, 5])  # never unknown
    new = rng.normal(size=(50, 6))
    new[rng.random(new.shape) < 0.3] = np.nan
    reference = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    reference.fit(train)
    ours = MedianImputer().fit(train)
    np.testing.assert_array_equal(ours.transform(new), reference.transform(new))
    assert ours.transform(new).shape == (50, 6 + 5)  # five columns had unknowns
    with pytest.raises(ValueError, match="5 features given"):
        ours.transform(new[:, :5])


def test_calibrated_probabilities_stay_in_0_1():
    generator = np.random.default_rng(1)
    raw = generator.random(300)
    labels = (generator.random(300) < raw).astype(int)
    calibrated = fit_calibrator(raw, labels).predict(np.linspace(-1, 2, 50))
    assert calibrated.min() >= 0 and calibrated.max() <= 1
    assert np.all(np.diff(calibrated) >= 0)


# ---------------------------------------------------------------- grouped folds


def test_no_learner_and_no_course_is_on_both_sides_of_a_fold(site):
    known = site[site["is_outcome_known"]]
    courses = known.groupby("learner_course_id", as_index=False).first()
    assert courses.groupby("learner_id").course_id.nunique().max() > 1  # learners do repeat
    splits = grouped_folds(courses, n_folds=3, seed=7)
    tested = []
    by_id = courses.set_index("learner_course_id")
    for split in splits:
        train, test = by_id.loc[split.train_learner_courses], by_id.loc[split.test_learner_courses]
        assert not set(train.course_id) & set(test.course_id)
        assert not set(train.learner_id) & set(test.learner_id)
        assert len(train) and len(test)
        tested.extend(split.test_learner_courses)
    assert sorted(tested) == sorted(courses.learner_course_id)  # each tested exactly once


def test_cross_validation_compares_every_model_by_week_and_explains_the_choice(site):
    site = with_starter_columns(site, SMALL.min_cohort_size)
    known = site[site["is_outcome_known"]].reset_index(drop=True)
    comparison = compare_models(known, SMALL)
    assert set(comparison.metrics.model_name) == set(SMALL.models)
    assert comparison.chosen in SMALL.models
    per_week = comparison.metrics.dropna(subset=["course_week_number"])
    assert sorted(per_week.course_week_number.unique()) == list(range(1, 7))
    assert (
        per_week[["roc_auc", "pr_auc", "brier_score", "top_decile_precision"]]
        .stack()
        .between(0, 1)
        .all()
    )
    assert comparison.reason.startswith(f"{comparison.chosen}: mean ROC AUC")
    assert "grouped by course and learner" in comparison.reason


# ---------------------------------------------------------------- as-of scoring


def test_refits_start_once_history_suffices_and_follow_its_growth():
    sizes = np.array([0, 0, 50, 120, 130, 150, 300])
    assert plan_refits(sizes, lambda size: size >= 100, 0.2).tolist() == [120, 150, 300]
    assert plan_refits(sizes, lambda size: size >= 100, 0.0).tolist() == [120, 130, 150, 300]
    assert plan_refits(sizes, lambda size: False, 0.2).tolist() == []


def test_the_history_of_each_prefix_counts_its_learner_courses_dropouts_and_courses(site):
    labelled = labelled_learner_courses(site)
    history = prefix_histories(labelled)
    for size in (0, 1, 7, len(labelled) // 2, len(labelled)):
        prefix = labelled.iloc[:size]
        dropouts = int(prefix["is_dropout"].astype(bool).sum())
        found = history(size)
        assert (found.learner_courses, found.dropouts, found.non_dropouts, found.courses) == (
            size,
            dropouts,
            size - dropouts,
            prefix["course_id"].nunique(),
        )


def test_one_score_per_learner_week_with_probabilities_in_0_1(site, scored):
    scores = scored.scores
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert len(scores) == len(site) and scores.learner_week_id.is_unique
    assert scores.dropout_probability.between(0, 1).all()
    latest = scores[scores.is_latest_week]
    assert (
        latest.learner_course_id.is_unique
        and latest.learner_course_id.nunique() == site.learner_course_id.nunique()
    )
    at_risk = scores[scores.risk_band != "low"]
    assert len(at_risk) and at_risk.reason_1.notna().all()


def test_the_first_term_gets_the_starter_score_and_later_terms_learn_only_from_the_past(
    site, scored
):
    scores = scored.scores.merge(
        site[["learner_week_id", "outcome_known_at"]], on="learner_week_id"
    )
    first_term = scores.course_id < 20
    assert (scores[first_term].score_method == "starter").all()
    assert (scores[first_term].dropout_probability == scores[first_term].starter_score).all()
    # Nothing was known yet: the shipped calibration, no history.
    assert scores[first_term].training_learner_courses.isna().all()
    later = scores[~first_term]
    assert set(later.score_method) <= {"model", "starter"}
    assert (later.model_trained_until_at < later.observed_at).all()
    assert (later.model_trained_until_at < later.outcome_known_at).all()
    assert later.training_learner_courses.min() >= SMALL.min_training_learner_courses
    assert any("the shipped calibration" in message for message in scored.messages)


def test_a_model_serves_only_where_it_beat_the_starter_score_in_cross_validation(site, scored):
    scores = scored.scores
    for fit in scored.fits:
        rows = scores[scores.model_trained_until_at == fit.trained_until]
        expected = "starter" if fit.name == "starter" else "model"
        assert len(rows) and (rows.score_method == expected).all()
        assert (rows.model_name == fit.name).all()
    # Without the starter among the candidates, the models serve.
    models_only = dataclasses.replace(SMALL, models=MODEL_NAMES[1:])
    again = score_learner_weeks(site, models_only, log=lambda message: None).scores
    assert (again[again.course_id >= 20].score_method == "model").all()


def test_a_score_never_depends_on_an_outcome_not_known_by_its_week(site, scored):
    # Flip the outcomes of the second term: its own scores and the first
    # term's must not move (those outcomes were unknown then); the running
    # term, trained after the second term ended, may.
    second_term = site.course_id.between(20, 29)
    flipped = site.copy()
    flipped.loc[second_term, "is_dropout"] = ~flipped.loc[second_term, "is_dropout"].astype(bool)
    rescored = score_learner_weeks(flipped, SMALL, log=lambda message: None).scores
    before = scored.scores.set_index("learner_week_id")
    after = rescored.set_index("learner_week_id")
    settled = before.index[before.course_id < 30]
    pd.testing.assert_series_equal(
        before.loc[settled, "dropout_probability"], after.loc[settled, "dropout_probability"]
    )
    running = before.index[before.course_id >= 30]
    assert not np.allclose(
        before.loc[running, "dropout_probability"], after.loc[running, "dropout_probability"]
    )


def test_a_row_never_learns_past_its_own_course_end():
    rows = pd.DataFrame(
        {
            "observed_at": pd.to_datetime(["2026-01-12", "2026-03-04", "2026-03-09"]),
            "outcome_known_at": pd.to_datetime(["2026-03-02", "2026-03-02", "2026-03-02"]),
        }
    )
    assert training_cutoffs(rows).tolist() == list(
        pd.to_datetime(["2026-01-12", "2026-03-02", "2026-03-02"])
    )


def test_a_new_site_gets_the_starter_score_and_a_clear_message():
    site = synthetic_features(terms=1)
    messages: list[str] = []
    run = score_learner_weeks(site, SMALL, log=messages.append)
    assert (run.scores.score_method == "starter").all()
    assert (run.scores.model_name == "starter").all()
    assert (run.scores.dropout_probability == run.scores.starter_score).all()
    assert run.scores.dropout_probability.between(0, 1).all()
    assert run.scores.training_learner_courses.isna().all()
    assert any(
        "no model yet: too little labelled history: 0 learner-courses with a known outcome" in m
        for m in messages
    )
    comparison = model_comparison_table(site, SMALL, log=messages.append)
    assert set(comparison.model_name) == {"starter", "rule_based"}
    assert comparison[comparison.is_chosen].model_name.unique().tolist() == ["starter"]
    assert comparison.choice_reason.iloc[0].startswith("No model yet: too little labelled history")


def test_the_comparison_table_marks_one_chosen_model(site):
    table = model_comparison_table(site, SMALL, log=lambda message: None)
    chosen = table[table.is_chosen].model_name.unique()
    assert len(chosen) == 1 and chosen[0] in SMALL.models
    assert table.comparison_row_id.is_unique
    assert set(table.model_name) == {*SMALL.models, "rule_based"}


def test_scores_do_not_depend_on_the_order_the_engine_returned_rows_in(site, scored):
    shuffled = site.sample(frac=1.0, random_state=7)
    again = score_learner_weeks(shuffled, SMALL, log=lambda message: None).scores
    columns = list(scored.scores.columns)
    expected = scored.scores.sort_values("learner_week_id").reset_index(drop=True)
    actual = again.sort_values("learner_week_id").reset_index(drop=True)[columns]
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)


def test_a_model_learns_from_at_most_the_newest_capped_learner_courses(site):
    capped = dataclasses.replace(SMALL, max_training_learner_courses=40)
    run = score_learner_weeks(site, capped, log=lambda message: None)
    assert run.fits and all(fit.learner_courses <= 40 for fit in run.fits)
    # The newest outcomes are kept: the last fit knows the latest outcome.
    newest = site.loc[site["is_outcome_known"], "outcome_known_at"].max()
    assert run.fits[-1].trained_until == pd.Timestamp(newest)
    with pytest.raises(SettingsError, match="risk_max_training_learner_courses"):
        dataclasses.replace(SMALL, max_training_learner_courses=10)
