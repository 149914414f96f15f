"""The evaluation against a school's outcomes (no dbt): its figures equal
scikit-learn's, its intervals are bootstrap percentiles, and the outcomes
file is read as it is, every unusable row kept with its reason."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from moodle_analytics.risk.evaluation import (
    CALIBRATION_COLUMNS,
    EVALUATION_COLUMNS,
    SCORES,
    bootstrap_roc_auc,
    calibration_table,
    evaluation_table,
)
from moodle_analytics.risk.outcomes import OutcomesError, OutcomeSpec, outcome_rows
from moodle_analytics.risk.settings import RiskSettings

SETTINGS = RiskSettings()


def made_up_site(learners: int = 120, weeks: int = 4, seed: int = 1):
    """Outcomes, fct_learner_risk_scores and int_risk_features of a made-up
    course: scores that foretell the outcome better as weeks go by."""
    generator = np.random.default_rng(seed)
    ids = [f"{n}-2" for n in range(learners)]
    failed = generator.random(learners) < 0.35
    outcomes = pd.DataFrame(
        {
            "learner_course_id": ids,
            "match_status": "matched",
            "is_positive": failed,
            "outcome_name": "fail (Overall < 40)",
        }
    )
    # Unmatched rows never count.
    outcomes.loc[len(outcomes)] = [None, "ambiguous_learner", True, "fail (Overall < 40)"]
    scores, features = [], []
    for week in range(1, weeks + 1):
        signal = failed * week / weeks
        for n, learner in enumerate(ids):
            week_id = f"{learner}-{week}"
            noise = generator.random(3)
            scores.append(
                {
                    "learner_week_id": week_id,
                    "learner_course_id": learner,
                    "course_week_number": week,
                    "dropout_probability": float(np.clip(0.6 * signal[n] + 0.4 * noise[0], 0, 1)),
                    "starter_score": None if n < 3 else float(0.3 * signal[n] + 0.7 * noise[1]),
                    "rule_based_score": round(float(0.5 * noise[2] + 0.2 * signal[n]), 1),
                    "score_method": "starter",
                }
            )
            features.append(
                {
                    "learner_week_id": week_id,
                    "course_progress_share": week / weeks,
                    "events_so_far": int(generator.poisson(30 * (1.2 - signal[n]))),
                    "active_days_so_far": int(generator.integers(0, 3 * week)),
                    "days_since_last_activity": int(generator.integers(0, 10)),
                }
            )
    return outcomes, pd.DataFrame(scores), pd.DataFrame(features)


@pytest.fixture(scope="module")
def site():
    return made_up_site()


@pytest.fixture(scope="module")
def table(site):
    return evaluation_table(*site, SETTINGS, samples=300)


def test_every_score_and_week_has_a_row_with_the_documented_columns(table):
    assert list(table.columns) == list(EVALUATION_COLUMNS)
    assert len(table) == 4 * len(SCORES) and table.evaluation_row_id.is_unique
    assert (table.outcome_name == "fail (Overall < 40)").all()
    assert (table.matched_learner_courses == 120).all() and (
        table.unmatched_outcome_rows == 1
    ).all()
    assert set(table[table.is_baseline].score_name) == {
        "rule_based_score",
        "minus_events_so_far",
        "minus_active_days_so_far",
        "days_since_last_activity",
    }


def test_the_figures_equal_scikit_learns(site, table):
    outcomes, scores, features = site
    rows = scores.merge(features, on="learner_week_id").merge(
        outcomes[outcomes.match_status == "matched"], on="learner_course_id"
    )
    for week, part in rows.groupby("course_week_number"):
        labels = part.is_positive.to_numpy()
        found = table[table.course_week_number == week].set_index("score_name")
        served = part.dropout_probability.to_numpy()
        assert found.loc["risk_score", "roc_auc"] == pytest.approx(roc_auc_score(labels, served))
        assert found.loc["risk_score", "pr_auc"] == pytest.approx(
            average_precision_score(labels, served)
        )
        assert found.loc["risk_score", "brier_score"] == pytest.approx(
            np.mean((served - labels) ** 2)
        )
        events = -part.events_so_far.to_numpy()
        assert found.loc["minus_events_so_far", "roc_auc"] == pytest.approx(
            roc_auc_score(labels, events)
        )
        # Ties (the rule-based score is rounded to a tenth) count half, as in scikit-learn.
        assert found.loc["rule_based_score", "roc_auc"] == pytest.approx(
            roc_auc_score(labels, part.rule_based_score)
        )
        # An unknown starter score counts at the week's median.
        starter = part.starter_score.astype(float)
        filled = starter.fillna(starter.median())
        assert found.loc["starter_score", "roc_auc"] == pytest.approx(roc_auc_score(labels, filled))
        high, flagged = served >= 0.5, served >= 0.25
        assert found.loc["risk_score", "high_band_recall"] == pytest.approx(
            (high & labels).sum() / labels.sum()
        )
        assert found.loc["risk_score", "high_or_medium_precision"] == pytest.approx(
            (flagged & labels).sum() / flagged.sum()
        )
        assert math.isnan(found.loc["minus_events_so_far", "brier_score"])


def test_the_bootstrap_auc_of_each_sample_equals_scikit_learns():
    generator = np.random.default_rng(4)
    labels = generator.random(60) < 0.4
    scores = np.round(generator.random(60), 1)  # many ties
    samples = generator.integers(0, 60, size=(25, 60))
    found = bootstrap_roc_auc(labels, scores, samples)
    for sample, auc in zip(samples, found, strict=True):
        assert auc == pytest.approx(roc_auc_score(labels[sample], scores[sample]))
    one_class = bootstrap_roc_auc(np.zeros(5, dtype=bool), scores[:5], samples[:3, :5] % 5)
    assert np.isnan(one_class).all()


def test_intervals_hold_the_point_and_gains_are_paired(table):
    judged = table.dropna(subset=["roc_auc_low"])
    assert len(judged) and (judged.roc_auc_low <= judged.roc_auc).all()
    assert (judged.roc_auc <= judged.roc_auc_high).all()
    served = table[table.score_name == "risk_score"].set_index("course_week_number")
    for week, row in served.iterrows():
        best = table[(table.course_week_number == week) & table.is_baseline]
        assert row.best_baseline_name == best.loc[best.roc_auc.idxmax(), "score_name"]
        assert row.roc_auc_gain == pytest.approx(row.roc_auc - best.roc_auc.max())
        assert row.roc_auc_gain_low <= row.roc_auc_gain <= row.roc_auc_gain_high
    # The scores foretell better each week; so does the evaluation say.
    assert served.roc_auc.is_monotonic_increasing


def test_the_same_seed_gives_the_same_intervals(site, table):
    again = evaluation_table(*site, SETTINGS, samples=300)
    pd.testing.assert_frame_equal(table, again)


def test_the_calibration_table_counts_every_matched_learner_once_per_week(site):
    calibration = calibration_table(*site)
    assert list(calibration.columns) == list(CALIBRATION_COLUMNS)
    served = calibration[calibration.score_name == "risk_score"]
    assert (served.groupby("course_week_number").learner_courses.sum() == 120).all()
    assert (served.mean_predicted >= served.bin_lower).all()
    assert (served.mean_predicted <= served.bin_upper).all()
    starter = calibration[calibration.score_name == "starter_score"]
    assert (starter.groupby("course_week_number").learner_courses.sum() == 117).all()


def test_no_matched_learner_gives_an_empty_table(site):
    outcomes, scores, features = site
    nobody = outcomes.assign(match_status="no_such_learner")
    assert evaluation_table(nobody, scores, features, SETTINGS, samples=10).empty
    assert calibration_table(nobody, scores, features).empty


# ---------------------------------------------------------------- the outcomes file


def write(tmp_path, text: str, name: str = "outcomes.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# The shape of a real export: CRLF line ends and blank lines between rows.
GRADES = (
    "StudentId,Quiz(out of 15),Overall\r\n\r\n"
    "Abc,8,59\r\n\r\nDef,12,39.5\r\nGhi,3,40\r\nJkl,,abs\r\n"
)


def test_a_grade_below_the_pass_mark_is_a_fail_and_a_grade_that_is_no_number_is_kept(tmp_path):
    spec = OutcomeSpec(
        learner_column="StudentId", course="myCourse", grade_column="Overall", pass_mark=40
    )
    rows = outcome_rows(write(tmp_path, GRADES), spec)
    assert rows.learner_key.tolist() == ["Abc", "Def", "Ghi", "Jkl"]
    assert rows.outcome_row_number.tolist() == [3, 5, 6, 7]
    assert rows.is_positive.tolist() == [False, True, False, pd.NA]
    assert rows.outcome_problem.isna().tolist() == [True, True, True, False]
    assert rows.outcome_problem.iloc[3] == "grade 'abs' is not a number"
    assert (rows.course_key == "myCourse").all() and (rows.course_key_type == "short_name").all()
    assert (rows.outcome_name == "fail (Overall < 40)").all()


def test_results_are_read_by_the_words_given_and_others_kept_with_the_reason(tmp_path):
    text = (
        "user;course;result;state\n11;ALG;Failed;final\n12;ALG;pass;final\n13;ALG;withdrawn;final\n"
    )
    text += "14;ALG;fail;provisional\n;ALG;pass;final\n"
    spec = OutcomeSpec(
        learner_column="user",
        learner_key="user_id",
        course_column="course",
        result_column="result",
        only=("state", "final"),
    )
    rows = outcome_rows(write(tmp_path, text), spec)
    assert rows.is_positive.tolist() == [True, False, pd.NA, pd.NA, pd.NA]
    problems = rows.outcome_problem.tolist()
    assert problems[2].startswith("result 'withdrawn' is neither a fail value")
    assert problems[3] == "left out by --only state=final (found 'provisional')"
    assert problems[4] == "no learner key"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"course": "A", "course_column": "c", "result_column": "r"}, "name the course"),
        ({"result_column": "r"}, "name the course"),
        ({"course": "A"}, "name the outcome"),
        ({"course": "A", "grade_column": "g"}, "needs --pass-mark"),
        ({"course": "A", "result_column": "r", "learner_key": "nickname"}, "--learner-key"),
        (
            {"course": "A", "result_column": "r", "fail_values": ("x",), "pass_values": ("X",)},
            "both as fail and pass",
        ),
    ],
)
def test_options_that_cannot_work_are_refused_by_name(options, message):
    with pytest.raises(OutcomesError, match=message):
        OutcomeSpec(learner_column="id", **options)


def test_a_missing_column_or_file_is_named(tmp_path):
    spec = OutcomeSpec(learner_column="Student", course="A", grade_column="Overall", pass_mark=40)
    with pytest.raises(OutcomesError, match=r"no column 'Student' \(--learner-column\).*StudentId"):
        outcome_rows(write(tmp_path, GRADES), spec)
    with pytest.raises(OutcomesError, match="no such file"):
        outcome_rows(tmp_path / "missing.csv", spec)
    with pytest.raises(OutcomesError, match="empty"):
        outcome_rows(write(tmp_path, "", "empty.csv"), spec)
