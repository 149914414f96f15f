"""The feature matrix: which columns of int_risk_features a model may see.

The model sees only the columns listed in FEATURE_COLUMNS and the starter
score's columns computed from them (starter.MODEL_COLUMNS), all known at the
end of the learner's week. The labels (LABEL_COLUMNS) live in the same table
for training and evaluation and never reach a model's input.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

ID_COLUMNS = ("learner_week_id", "learner_course_id", "learner_id", "course_id")

FEATURE_COLUMNS = (
    "course_week_number",
    "course_progress_share",
    "events_last_7_days",
    "events_last_14_days",
    "events_so_far",
    "active_days_last_7_days",
    "active_days_last_14_days",
    "active_days_so_far",
    "days_since_last_activity",
    "sessions_last_14_days",
    "sessions_so_far",
    "minutes_on_task_last_14_days",
    "minutes_on_task_so_far",
    "earlier_weekly_events",
    "activity_trend_ratio",
    "deadlines_due",
    "deadlines_on_time",
    "deadlines_late",
    "deadlines_missing",
    "deadlines_on_time_share",
    "deadlines_late_share",
    "deadlines_missing_share",
    "submissions_so_far",
    "quiz_attempts_so_far",
    "quiz_average_so_far",
    "forum_posts_so_far",
    "activities_completed_so_far",
    "completion_share_so_far",
    "events_so_far_percentile",
    "events_last_14_days_percentile",
    "minutes_on_task_so_far_percentile",
    "completion_share_so_far_percentile",
    "days_to_first_activity",
    "days_since_expected_start",
    "cognitive_depth_so_far",
    "social_breadth_so_far",
    "has_been_active",
)

# Context the reasons and the segment rule quote; not model inputs.
CONTEXT_COLUMNS = (
    "course_median_quiz_average",
    "course_median_forum_posts",
    "course_median_completion_share",
    "course_median_events_last_14_days",
    "observed_at",
    "week_one_starts_at",
)

LABEL_COLUMNS = ("is_outcome_known", "is_dropout", "outcome_known_at")


class FeatureError(ValueError):
    """The features table lacks what the risk models need."""


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise FeatureError(f"{what} lacks the column(s) {', '.join(missing)}")


def in_stable_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in learner_week_id order. Engines return rows in any order; fitted
    models and ties among equal scores must not depend on it."""
    require_columns(frame, ("learner_week_id",), "the features table")
    return frame.sort_values("learner_week_id", kind="stable").reset_index(drop=True)


def feature_matrix(frame: pd.DataFrame, names: tuple[str, ...] = FEATURE_COLUMNS) -> np.ndarray:
    """The model input: these columns as floats (booleans 0/1, unknown as NaN)."""
    require_columns(frame, names, "the features table")
    columns = []
    for name in names:
        values = pd.to_numeric(frame[name].astype("float64"), errors="raise")
        columns.append(values.to_numpy(dtype="float64", na_value=np.nan))
    if not columns or not len(frame):
        return np.empty((len(frame), len(names)), dtype="float64")
    return np.column_stack(columns)


def learner_courses(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per learner-course with its label and when the label became known."""
    require_columns(frame, (*ID_COLUMNS, *LABEL_COLUMNS), "the features table")
    per_course = frame.groupby("learner_course_id", sort=True).agg(
        learner_id=("learner_id", "first"),
        course_id=("course_id", "first"),
        is_outcome_known=("is_outcome_known", "first"),
        is_dropout=("is_dropout", "first"),
        outcome_known_at=("outcome_known_at", "first"),
    )
    return per_course.reset_index()
