"""A made-up site's int_risk_features for the risk tests (no dbt, no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from moodle_analytics.risk.features import CONTEXT_COLUMNS, FEATURE_COLUMNS
from moodle_analytics.risk.settings import RiskSettings

WEEK = pd.Timedelta(days=7)
SMALL = RiskSettings(min_training_learner_courses=30, min_training_per_class=5, cv_folds=3)


def synthetic_features(
    terms: int = 3,
    courses: int = 3,
    learners: int = 24,
    weeks: int = 6,
    current_week: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """int_risk_features of a made-up site: terms half a year apart, the last
    one running at `current_week`; dropouts fade out; learners come back."""
    generator = np.random.default_rng(seed)
    pool = np.arange(1, learners * courses)  # fewer people than seats: learners repeat
    rows = []
    for term in range(terms):
        start = pd.Timestamp("2025-01-06") + term * 26 * WEEK
        running = term == terms - 1
        for course in range(courses):
            course_id = 10 * (term + 1) + course
            chosen = generator.choice(pool, size=learners, replace=False)
            for user in chosen:
                dropout = generator.random() < 0.35
                stop_week = int(generator.integers(1, weeks)) if dropout else weeks + 1
                engagement = generator.gamma(4, 3)
                so_far = 0
                last_active_week = 0
                history = []
                followed = current_week if running else weeks
                for week in range(1, followed + 1):
                    active = week < stop_week
                    events = int(generator.poisson(engagement * (1.0 if active else 0.0)))
                    history.append(events)
                    so_far += events
                    if events:
                        last_active_week = week
                    due = week
                    missing = int(generator.binomial(due, 0.1 if active else 0.8))
                    rows.append(
                        {
                            "learner_week_id": f"{user}-{course_id}-{week}",
                            "learner_course_id": f"{user}-{course_id}",
                            "learner_id": f"L{user}",
                            "course_id": course_id,
                            "course_week_number": week,
                            "course_weeks": weeks,
                            "weeks_followed": week,
                            "course_progress_share": week / weeks,
                            "events_last_7_days": events,
                            "events_last_14_days": sum(history[-2:]),
                            "events_so_far": so_far,
                            "active_days_last_7_days": min(7, events // 3),
                            "active_days_last_14_days": min(14, sum(history[-2:]) // 3),
                            "active_days_so_far": so_far // 3,
                            "days_since_last_activity": 7 * (week - last_active_week) + 1,
                            "sessions_last_14_days": sum(history[-2:]) // 4,
                            "sessions_so_far": so_far // 4,
                            "minutes_on_task_last_14_days": 3.0 * sum(history[-2:]),
                            "minutes_on_task_so_far": 3.0 * so_far,
                            "earlier_weekly_events": np.mean(history[:-1]) if week > 1 else np.nan,
                            "activity_trend_ratio": (
                                (events + 1) / (np.mean(history[:-1]) + 1) if week > 1 else np.nan
                            ),
                            "deadlines_due": due,
                            "deadlines_on_time": due - missing,
                            "deadlines_late": 0,
                            "deadlines_missing": missing,
                            "deadlines_on_time_share": (due - missing) / due,
                            "deadlines_late_share": 0.0,
                            "deadlines_missing_share": missing / due,
                            "submissions_so_far": week - missing,
                            "quiz_attempts_so_far": week,
                            "common_quizzes_attempted_so_far": week,
                            "quiz_average_so_far": float(
                                np.clip(generator.normal(0.7 - 0.2 * dropout, 0.15), 0, 1)
                            ),
                            "forum_posts_so_far": so_far // 10,
                            "activities_completed_so_far": so_far // 5,
                            "completion_share_so_far": min(1.0, so_far / 100),
                            "days_to_first_activity": 0 if so_far else np.nan,
                            "days_since_expected_start": 7 * week,
                            "cognitive_depth_so_far": 3 if so_far else 0,
                            "social_breadth_so_far": 1 if so_far else 0,
                            "has_been_active": so_far > 0,
                            "is_complete_week": not (running and week == current_week),
                            "week_one_starts_at": start,
                            "observed_at": start + week * WEEK,
                            "is_outcome_known": not running,
                            "is_dropout": dropout if not running else None,
                            "outcome_known_at": start + weeks * WEEK,
                        }
                    )
    features = pd.DataFrame(rows)
    cohort = features.groupby(["course_id", "course_week_number"])
    for column, percentile in (
        ("events_so_far", "events_so_far_percentile"),
        ("events_last_14_days", "events_last_14_days_percentile"),
        ("minutes_on_task_so_far", "minutes_on_task_so_far_percentile"),
        ("completion_share_so_far", "completion_share_so_far_percentile"),
    ):
        features[percentile] = cohort[column].rank(pct=True, method="min")
    for column, median in (
        ("quiz_average_so_far", "course_median_quiz_average"),
        ("forum_posts_so_far", "course_median_forum_posts"),
        ("completion_share_so_far", "course_median_completion_share"),
        ("events_last_14_days", "course_median_events_last_14_days"),
    ):
        features[median] = cohort[column].transform("median")
    assert set(FEATURE_COLUMNS) | set(CONTEXT_COLUMNS) <= set(features.columns)
    return features
