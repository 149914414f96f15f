"""The pure functions behind the risk scores: feature matrix, rules, bands,
segments, reasons and settings (no dbt, no warehouse)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from moodle_analytics.risk import rules
from moodle_analytics.risk.features import (
    FEATURE_COLUMNS,
    LABEL_COLUMNS,
    FeatureError,
    feature_matrix,
)
from moodle_analytics.risk.settings import MODEL_NAMES, RiskSettings, SettingsError

SETTINGS = RiskSettings()


def learner_week(**values) -> dict:
    """One learner-week of int_risk_features: an active learner with nothing wrong."""
    row = {name: 0 for name in FEATURE_COLUMNS}
    row.update(
        course_week_number=5,
        has_been_active=True,
        days_since_last_activity=1,
        days_since_expected_start=35,
        days_to_first_activity=0,
        deadlines_due=4,
        deadlines_missing=0,
        deadlines_late=0,
        deadlines_missing_share=0.0,
        events_last_7_days=20,
        events_last_14_days=40,
        earlier_weekly_events=20.0,
        activity_trend_ratio=1.0,
        events_last_14_days_percentile=0.6,
        course_median_events_last_14_days=30.0,
        quiz_average_so_far=0.8,
        course_median_quiz_average=0.7,
        completion_share_so_far=0.5,
        course_median_completion_share=0.5,
        forum_posts_so_far=2,
        course_median_forum_posts=1.0,
        course_median_days_since_last_activity=None,
        weeks_followed=5,
        active_weeks_so_far=5,
        active_week_share=1.0,
        course_median_active_week_share=1.0,
        events_so_far=100,
        events_so_far_percentile=0.6,
        course_median_events_so_far=90.0,
        submissions_so_far=3,
        course_median_submissions=3.0,
    )
    row.update(values)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


# ---------------------------------------------------------------- feature matrix


def test_the_feature_matrix_holds_the_listed_features_and_never_a_label():
    rows = frame(
        learner_week(has_been_active=True),
        learner_week(has_been_active=False, quiz_average_so_far=None),
    )
    rows["is_dropout"] = [True, False]
    rows["is_outcome_known"] = True
    matrix = feature_matrix(rows)
    assert matrix.shape == (2, len(FEATURE_COLUMNS))
    assert not set(LABEL_COLUMNS) & set(FEATURE_COLUMNS)
    active = FEATURE_COLUMNS.index("has_been_active")
    quiz = FEATURE_COLUMNS.index("quiz_average_so_far")
    assert matrix[:, active].tolist() == [1.0, 0.0]
    assert matrix[0, quiz] == 0.8 and np.isnan(matrix[1, quiz])


def test_a_missing_feature_column_is_named():
    rows = frame(learner_week()).drop(columns=["events_last_7_days"])
    with pytest.raises(FeatureError, match="events_last_7_days"):
        feature_matrix(rows)


# ---------------------------------------------------------------- rule-based score


def test_the_rule_based_score_follows_the_documented_weights():
    rows = frame(
        learner_week(
            days_since_last_activity=30,
            deadlines_missing_share=0.5,
            events_last_14_days_percentile=0.0,
            quiz_average_so_far=0.38,
        ),
        # Without percentile (small cohort) and without quiz: 0.5 and 0.
        learner_week(
            days_since_last_activity=7,
            deadlines_missing_share=None,
            events_last_14_days_percentile=None,
            quiz_average_so_far=None,
        ),
    )
    score = rules.rule_based_score(rows)
    assert score.tolist() == [0.818, round(0.4 * 7 / 21 + 0.2 * 0.5, 4)]


def test_the_rule_based_score_stays_between_0_and_1():
    generator = np.random.default_rng(3)
    rows = pd.DataFrame(
        {
            "days_since_last_activity": generator.integers(0, 400, 500),
            "deadlines_missing_share": generator.random(500),
            "events_last_14_days_percentile": generator.random(500),
            "quiz_average_so_far": generator.random(500),
        }
    )
    score = rules.rule_based_score(rows)
    assert score.between(0, 1).all()


def test_risk_bands_start_at_their_thresholds():
    probabilities = pd.Series([0.0, 0.2499, 0.25, 0.4999, 0.5, 1.0])
    bands = rules.risk_band(probabilities, SETTINGS)
    assert bands.tolist() == ["low", "low", "medium", "medium", "high", "high"]


# ---------------------------------------------------------------- segments


@pytest.mark.parametrize(
    ("band", "values", "expected"),
    [
        ("high", {}, "struggling"),
        ("low", {"quiz_average_so_far": 0.45}, "struggling"),
        (
            "low",
            {"deadlines_due": 3, "deadlines_missing": 2, "deadlines_missing_share": 2 / 3},
            "struggling",
        ),
        # Half of 4 missing is not more than half: not struggling, not doing well.
        (
            "low",
            {"deadlines_due": 4, "deadlines_missing": 2, "deadlines_missing_share": 0.5},
            "doing_ok",
        ),
        ("low", {}, "doing_well"),
        ("low", {"quiz_average_so_far": 0.65}, "doing_ok"),
        ("low", {"events_last_14_days_percentile": 0.3}, "doing_ok"),
        (
            "low",
            {"events_last_14_days_percentile": None, "quiz_average_so_far": None},
            "doing_well",
        ),
        ("low", {"course_median_quiz_average": None, "quiz_average_so_far": 0.55}, "doing_well"),
        ("medium", {}, "doing_ok"),
    ],
)
def test_segments_follow_the_documented_rule(band, values, expected):
    rows = frame(learner_week(**values))
    assert rules.segment(rows, pd.Series([band]), SETTINGS).tolist() == [expected]


# ---------------------------------------------------------------- reasons


def reasons_of(band: str = "high", **values) -> list:
    rows = frame(learner_week(**values))
    found = rules.reasons(rows, pd.Series([band]), SETTINGS)
    return found.iloc[0].tolist()


def test_reasons_say_what_is_wrong_with_the_figures_most_severe_first():
    assert reasons_of(
        days_since_last_activity=12,
        deadlines_due=4,
        deadlines_missing=2,
        deadlines_missing_share=0.5,
        quiz_average_so_far=0.38,
        course_median_quiz_average=0.71,
    ) == [
        "quiz average 38% against a course median of 71%",
        "no activity for 12 days",
        "2 of 4 due activities not handed in",
    ]


def test_at_most_three_reasons_are_kept():
    found = reasons_of(
        days_since_last_activity=30,
        deadlines_due=4,
        deadlines_missing=4,
        deadlines_missing_share=1.0,
        quiz_average_so_far=0.2,
        events_last_14_days=0,
        events_last_14_days_percentile=0.0,
        days_to_first_activity=10,
    )
    assert found == [
        "no activity for 30 days",
        "4 of 4 due activities not handed in",
        "quiz average 20% against a course median of 70%",
    ]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (
            {"has_been_active": False, "days_since_expected_start": 9},
            "no activity yet, 9 days after the start",
        ),
        (
            {"deadlines_due": 1, "deadlines_missing": 1, "deadlines_missing_share": 1.0},
            "1 of 1 due activity not handed in",
        ),
        (
            {"course_median_quiz_average": None, "quiz_average_so_far": 0.42},
            "quiz average 42% against a pass mark of 50%",
        ),
        (
            {"events_last_14_days": 1, "events_last_14_days_percentile": 0.1},
            "1 event in the last 14 days against a course median of 30",
        ),
        (
            {"events_last_7_days": 4, "activity_trend_ratio": 0.24, "earlier_weekly_events": 20.4},
            "4 events in the last 7 days against an earlier average of 20 a week",
        ),
        ({"deadlines_late": 2}, "2 of 4 due activities handed in late"),
        (
            {"completion_share_so_far": 0.1, "course_median_completion_share": 0.6},
            "10% of tracked activities completed against a course median of 60%",
        ),
        ({"days_to_first_activity": 9}, "first activity 9 days after the start"),
        (
            {"forum_posts_so_far": 0, "course_median_forum_posts": 3.0},
            "no forum posts against a course median of 3",
        ),
        (
            {"days_since_last_activity": 12, "course_median_days_since_last_activity": 3.0},
            "no activity for 12 days while the course median learner was active 3 days ago",
        ),
        (
            {"days_since_last_activity": 9, "course_median_days_since_last_activity": 0.5},
            "no activity for 9 days while the course median learner was active 1 day ago",
        ),
        (
            {"days_since_last_activity": 8, "course_median_days_since_last_activity": 0.0},
            "no activity for 8 days while the course median learner was active today",
        ),
        (
            {
                "weeks_followed": 7,
                "active_weeks_so_far": 2,
                "active_week_share": 2 / 7,
                "course_median_active_week_share": 6 / 7,
            },
            "active in 2 of 7 weeks so far (29%) against a course median of 86%",
        ),
        (
            {"events_so_far": 12, "events_so_far_percentile": 0.1},
            "12 events so far against a course median of 90",
        ),
        (
            {"deadlines_due": 0, "submissions_so_far": 1, "course_median_submissions": 3.0},
            "1 assignment handed in so far against a course median of 3",
        ),
    ],
)
def test_each_reason_reads_in_plain_words(values, reason):
    assert reasons_of(**values)[0] == reason


def test_inactivity_in_a_quiet_course_week_is_no_reason():
    # A break: the course median learner was last active 10 days ago.
    assert (
        reasons_of(days_since_last_activity=12, course_median_days_since_last_activity=10.0)[0]
        != "no activity for 12 days while the course median learner was active 10 days ago"
    )
    assert reasons_of(days_since_last_activity=17, course_median_days_since_last_activity=10.0)[
        0
    ] == ("no activity for 17 days while the course median learner was active 10 days ago")


def test_handed_in_work_is_a_reason_only_where_no_due_date_says_more():
    assert "assignment" not in " ".join(
        str(reason)
        for reason in reasons_of(
            deadlines_due=4, submissions_so_far=0, course_median_submissions=3.0
        )
    )


def test_a_learner_at_risk_always_gets_a_reason_and_one_doing_fine_none():
    assert reasons_of("medium") == [
        "40 events in the last 14 days against a course median of 30",
        None,
        None,
    ]
    assert reasons_of("low") == [None, None, None]
    # Without a cohort median the fallback still gives the figure.
    assert (
        reasons_of("high", course_median_events_last_14_days=None)[0]
        == "40 events in the last 14 days"
    )


# ---------------------------------------------------------------- settings


def test_settings_come_from_the_rendered_dbt_variables():
    settings = RiskSettings.from_mapping(
        {
            "min_training_learner_courses": "150",
            "cv_folds": 4,
            "models": ["logistic_regression", "random_forest"],
            "risk_band_thresholds": {"high": 0.6, "medium": 0.3},
            "pass_share": "0.4",
        }
    )
    assert settings.min_training_learner_courses == 150
    assert settings.models == ("logistic_regression", "random_forest")
    assert settings.band_thresholds == {"high": 0.6, "medium": 0.3}
    assert settings.pass_share == 0.4
    assert RiskSettings.from_mapping(None).models == MODEL_NAMES


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"risk_band_thresholds": {"high": 0.2, "medium": 0.3}}, "medium < high"),
        ({"risk_band_thresholds": [0.5, 0.2]}, "mapping with high and medium"),
        ({"models": ["neural_network"]}, "unknown model neural_network"),
        ({"cv_folds": 1}, "risk_cv_folds"),
        ({"cv_folds": "five"}, "cannot use 'five'"),
        ({"colour": "red"}, "unknown risk setting: colour"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_the_variable_named(values, message):
    with pytest.raises(SettingsError, match=message):
        RiskSettings.from_mapping(values)
