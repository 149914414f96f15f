"""The starter score: a risk score that needs no labelled history.

A site that has not yet seen a course end (or too few to train a model) still
needs its learners ranked. The starter score compares each learner with the
other learners of the same course in the same course week (the cohort that
int_risk_features' percentiles use: every peer's week is as of the same
moment), so it judges "inactive" against what the course did that week: in a
break week when the whole course is quiet, nobody stands out for being quiet.

Eight indicators, in three equal groups:

  engagement   events so far, active days so far, share of weeks active so
               far, days since the last activity;
  coursework   assignments handed in so far, quizzes attempted so far among
               those more than half of the cohort has attempted (a quiz
               for one group says nothing of the others), share of due
               work not handed in on time (late counts half);
  performance  quiz average so far.

Each indicator becomes the learner's distance from the cohort's mean in
standard deviations (a z-score), signed so that positive is worse, and
clipped to +-3 so that one extreme learner cannot dominate, and kept to 12
decimals. Counts are
heavy-tailed, so they are compared as log(1 + count). An indicator on which
the whole cohort is equal (nothing due yet, no quiz in a Logs download) or
known for fewer than risk_min_cohort_size learners says nothing and is left
out. The starter raw score is the mean of the group means, over what is known.

The dropout probability is a logistic map of the raw score whose two
coefficients come from finished courses: by default the demo site's (see
dbt_project.yml, risk_starter_calibration), or the site's own once it has
enough finished learner-courses of each class. The same arithmetic is in
SQL in models/intermediate/features/int_risk_starter_scores.sql.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from moodle_analytics.risk.features import FEATURE_COLUMNS, require_columns
from moodle_analytics.risk.settings import RiskSettings

COHORT_COLUMNS = ("course_id", "course_week_number", "week_one_starts_at")


@dataclass(frozen=True)
class Indicator:
    column: str  # the column of the features (or of derived_columns)
    riskier_when: str  # "lower" or "higher"
    group: str
    is_count: bool  # compared as log(1 + count)

    @property
    def z_column(self) -> str:
        return f"{self.column}_z"


INDICATORS = (
    Indicator("events_so_far", "lower", "engagement", is_count=True),
    Indicator("active_days_so_far", "lower", "engagement", is_count=True),
    Indicator("active_week_share", "lower", "engagement", is_count=False),
    Indicator("days_since_last_activity", "higher", "engagement", is_count=True),
    Indicator("submissions_so_far", "lower", "coursework", is_count=True),
    Indicator("common_quizzes_attempted_so_far", "lower", "coursework", is_count=True),
    Indicator("work_not_on_time_share", "higher", "coursework", is_count=False),
    Indicator("quiz_average_so_far", "lower", "performance", is_count=False),
)
GROUPS = ("engagement", "coursework", "performance")
Z_COLUMNS = tuple(indicator.z_column for indicator in INDICATORS)
# A learner at most this many standard deviations from the cohort's mean.
Z_LIMIT = 3.0
# z-scores are kept to this many decimals: engines sum in different orders,
# and the last bits of a cohort's mean must not reach the models fitted on them.
DECIMALS = 12

# Cohort medians the reasons quote (None below risk_min_cohort_size).
MEDIAN_COLUMNS = {
    "days_since_last_activity": "course_median_days_since_last_activity",
    "events_so_far": "course_median_events_so_far",
    "active_week_share": "course_median_active_week_share",
    "submissions_so_far": "course_median_submissions",
}

# Columns of int_risk_features the starter reads.
STARTER_INPUT_COLUMNS = (
    "learner_course_id",
    *COHORT_COLUMNS,
    "weeks_followed",
    "events_so_far",
    "active_days_so_far",
    "days_since_last_activity",
    "submissions_so_far",
    "common_quizzes_attempted_so_far",
    "deadlines_missing_share",
    "deadlines_late_share",
    "quiz_average_so_far",
)

# The columns starter_columns adds: model inputs, then the reasons' context.
STARTER_FEATURE_COLUMNS = (*Z_COLUMNS, "starter_raw_score")
STARTER_CONTEXT_COLUMNS = ("active_weeks_so_far", "active_week_share", *MEDIAN_COLUMNS.values())
# What the models see: int_risk_features' features and the starter's.
MODEL_COLUMNS = (*FEATURE_COLUMNS, *STARTER_FEATURE_COLUMNS)


@dataclass(frozen=True)
class StarterCalibration:
    """dropout probability = 1 / (1 + exp(-(intercept + slope * raw score)))."""

    intercept: float
    slope: float
    # Learner-courses of this site it was fitted on (None: the shipped one).
    learner_courses: int | None = None
    trained_until: pd.Timestamp | None = None

    def probability(self, raw_score: pd.Series | np.ndarray) -> np.ndarray:
        values = np.asarray(raw_score, dtype="float64")
        return 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * values)))


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column].astype("float64"))


def derived_columns(features: pd.DataFrame) -> pd.DataFrame:
    """active_weeks_so_far, active_week_share and work_not_on_time_share per row.

    A week is active when events_so_far grew in it: only the learner's own
    rows up to that week count, so a week's value never depends on later ones.
    """
    order = features.sort_values(["learner_course_id", "course_week_number"], kind="stable").index
    ordered = features.loc[order]
    so_far = _numbers(ordered, "events_so_far").fillna(0)
    before = so_far.groupby(ordered["learner_course_id"], sort=False).shift(1).fillna(0)
    active_weeks = (
        (so_far > before).astype("int64").groupby(ordered["learner_course_id"], sort=False).cumsum()
    )
    derived = pd.DataFrame(index=features.index)
    derived["active_weeks_so_far"] = active_weeks.reindex(features.index)
    followed = _numbers(features, "weeks_followed")
    derived["active_week_share"] = derived["active_weeks_so_far"] / followed.where(followed > 0)
    late = _numbers(features, "deadlines_late_share").fillna(0)
    derived["work_not_on_time_share"] = _numbers(features, "deadlines_missing_share") + 0.5 * late
    return derived


def cohort_keys(features: pd.DataFrame) -> np.ndarray:
    """A number per cohort (course, course week, week 1): the peers of a row."""
    return features.groupby(list(COHORT_COLUMNS), dropna=False, sort=True).ngroup().to_numpy()


def cohort_z(
    values: pd.Series, cohorts: np.ndarray, riskier_when: str, min_cohort: int
) -> pd.Series:
    """Standard deviations from the cohort's mean, positive when worse,
    clipped to +-Z_LIMIT; None where the cohort has fewer than min_cohort
    values or all are equal."""
    groups = values.groupby(cohorts, sort=False)
    count = groups.transform("count")
    spread = groups.transform("max") > groups.transform("min")
    deviation = (values - groups.transform("mean")) / groups.transform("std", ddof=0)
    z = deviation if riskier_when == "higher" else -deviation
    z = z.clip(-Z_LIMIT, Z_LIMIT).round(DECIMALS)
    return z.where((count >= min_cohort) & spread & values.notna())


def cohort_median(values: pd.Series, cohorts: np.ndarray, min_cohort: int) -> pd.Series:
    """The cohort's median (the mean of the two middle values when even)."""
    groups = values.groupby(cohorts, sort=False)
    return groups.transform("median").where(groups.transform("count") >= min_cohort)


def starter_columns(features: pd.DataFrame, min_cohort: int) -> pd.DataFrame:
    """The derived indicators, each indicator's z-score, the cohort medians
    and starter_raw_score (None where no indicator says anything), per row."""
    require_columns(features, STARTER_INPUT_COLUMNS, "the features table")
    columns = derived_columns(features)
    cohorts = cohort_keys(features)
    source = pd.concat([features, columns], axis=1)
    for indicator in INDICATORS:
        values = _numbers(source, indicator.column)
        if indicator.is_count:
            values = np.log1p(values)
        columns[indicator.z_column] = cohort_z(values, cohorts, indicator.riskier_when, min_cohort)
    for column, median in MEDIAN_COLUMNS.items():
        columns[median] = cohort_median(_numbers(source, column), cohorts, min_cohort)
    group_means = pd.concat(
        [
            columns[[i.z_column for i in INDICATORS if i.group == group]].mean(axis=1)
            for group in GROUPS
        ],
        axis=1,
    )
    columns["starter_raw_score"] = group_means.mean(axis=1).round(DECIMALS)
    return columns


def with_starter_columns(features: pd.DataFrame, min_cohort: int) -> pd.DataFrame:
    """features with the starter columns added (replaced when already there)."""
    added = starter_columns(features, min_cohort)
    kept = features.drop(columns=[c for c in added.columns if c in features.columns])
    return pd.concat([kept, added], axis=1)


# A site calibrates the starter on its own finished learner-courses from this
# many of each class on; the fit is nearly unpenalised (two coefficients).
CALIBRATION_PENALTY = 1e4


def fit_calibration(
    raw_score: pd.Series, labels: pd.Series, learner_courses: int | None = None
) -> StarterCalibration:
    """The logistic map from raw score to the labels' probability."""
    known = raw_score.notna().to_numpy() & labels.notna().to_numpy()
    scores = raw_score.to_numpy(dtype="float64")[known].reshape(-1, 1)
    classes = labels.to_numpy()[known].astype(int)
    if len(np.unique(classes)) < 2:
        raise ValueError("a calibration needs learners of both outcomes")
    fitted = LogisticRegression(C=CALIBRATION_PENALTY, max_iter=1000).fit(scores, classes)
    return StarterCalibration(
        intercept=float(fitted.intercept_[0]),
        slope=float(fitted.coef_[0, 0]),
        learner_courses=learner_courses,
    )


def describe(calibration: StarterCalibration) -> str:
    where = (
        "the shipped calibration (risk_starter_calibration)"
        if calibration.learner_courses is None
        else f"calibrated on {calibration.learner_courses:,} finished learner-courses of this site"
    )
    return (
        f"starter score, {where}: intercept {calibration.intercept:.4f}, "
        f"slope {calibration.slope:.4f}"
    )


def shipped_calibration(settings: RiskSettings) -> StarterCalibration:
    return StarterCalibration(settings.starter_intercept, settings.starter_slope)
