"""The documented rules: rule-based score, risk bands, segments and reasons.

The same rules are written in SQL in models/intermediate/features/
int_risk_rule_scores.sql (the in-database fallback for engines without
Python models); tests check that both give the same results.

Rule-based score (0..1, used while there is too little labelled history):
    0.40 * min(days since last activity, 21) / 21
  + 0.25 * share of due activities not handed in (0 when nothing was due)
  + 0.20 * (1 - percentile of events in the last 14 days in the course week;
            0.5 when the cohort is too small for percentiles)
  + 0.15 * (1 - quiz average so far; 0 when no quiz was scored)
rounded half up to 4 decimals.

Risk band: high from the high threshold on, medium from the medium one.

Segment:
  struggling  risk band high, or quiz average below the pass mark, or more
              than half of 3 or more due activities not handed in;
  doing_well  risk band low, nothing due left missing, quiz average (if any)
              at or above the course median (the pass mark without one), and
              events in the last 14 days at or above the course median
              (percentile >= 0.5; skipped without a percentile);
  doing_ok    everything else.

Reasons: the candidates below whose condition holds, by severity (ties in
the listed order), at most three; a learner in the high or medium band
without any gets the recent activity against the course as the reason.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from moodle_analytics.risk.features import require_columns
from moodle_analytics.risk.settings import RiskSettings

RULE_COLUMNS = (
    "days_since_last_activity",
    "deadlines_missing_share",
    "events_last_14_days_percentile",
    "quiz_average_so_far",
)

SEGMENT_COLUMNS = (
    "quiz_average_so_far",
    "course_median_quiz_average",
    "deadlines_due",
    "deadlines_missing",
    "deadlines_missing_share",
    "events_last_14_days_percentile",
)

REASON_COLUMNS = (
    "has_been_active",
    "days_since_expected_start",
    "days_since_last_activity",
    "deadlines_due",
    "deadlines_missing",
    "deadlines_late",
    "quiz_average_so_far",
    "course_median_quiz_average",
    "events_last_7_days",
    "events_last_14_days",
    "events_last_14_days_percentile",
    "course_median_events_last_14_days",
    "earlier_weekly_events",
    "activity_trend_ratio",
    "completion_share_so_far",
    "course_median_completion_share",
    "days_to_first_activity",
    "forum_posts_so_far",
    "course_median_forum_posts",
)

REASONS_PER_LEARNER = 3


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column].astype("float64"))


def rule_based_score(frame: pd.DataFrame) -> pd.Series:
    """The documented rule-based score in [0, 1]."""
    require_columns(frame, RULE_COLUMNS, "the features table")
    inactivity = _numbers(frame, "days_since_last_activity").clip(upper=21).fillna(0) / 21
    missing = _numbers(frame, "deadlines_missing_share").fillna(0)
    low_recent = 1 - _numbers(frame, "events_last_14_days_percentile").fillna(0.5)
    low_quiz = (1 - _numbers(frame, "quiz_average_so_far")).fillna(0)
    score = 0.40 * inactivity + 0.25 * missing + 0.20 * low_recent + 0.15 * low_quiz
    return round_half_up(score.clip(0, 1), 4).rename("rule_based_score")


def round_half_up(values: pd.Series, decimals: int) -> pd.Series:
    """floor(x * 10^d + 0.5) / 10^d: the rounding the SQL side can do on every engine."""
    scale = 10.0**decimals
    return np.floor(values * scale + 0.5) / scale


def risk_band(probability: pd.Series, settings: RiskSettings) -> pd.Series:
    """'high', 'medium' or 'low' from the thresholds."""
    values = probability.to_numpy(dtype="float64")
    bands = np.where(
        values >= settings.high_threshold,
        "high",
        np.where(values >= settings.medium_threshold, "medium", "low"),
    )
    return pd.Series(bands, index=probability.index, name="risk_band", dtype=object)


def segment(frame: pd.DataFrame, bands: pd.Series, settings: RiskSettings) -> pd.Series:
    """'doing_well', 'doing_ok' or 'struggling' by the documented rule."""
    require_columns(frame, SEGMENT_COLUMNS, "the features table")
    quiz = _numbers(frame, "quiz_average_so_far")
    quiz_reference = _numbers(frame, "course_median_quiz_average").fillna(settings.pass_share)
    due = _numbers(frame, "deadlines_due").fillna(0)
    missing = _numbers(frame, "deadlines_missing").fillna(0)
    missing_share = _numbers(frame, "deadlines_missing_share")
    percentile = _numbers(frame, "events_last_14_days_percentile")
    struggling = (
        (bands == "high") | (quiz < settings.pass_share) | ((due >= 3) & (missing_share > 0.5))
    )
    doing_well = (
        (bands == "low")
        & (missing == 0)
        & (quiz.isna() | (quiz >= quiz_reference))
        & (percentile.isna() | (percentile >= 0.5))
    )
    values = np.where(struggling, "struggling", np.where(doing_well, "doing_well", "doing_ok"))
    return pd.Series(values, index=frame.index, name="segment", dtype=object)


def _whole(value: float) -> int:
    """Round half up, as the SQL side does with floor(x + 0.5)."""
    return math.floor(value + 0.5)


def _percent(share: float) -> int:
    return _whole(share * 100)


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return word if count == 1 else (plural or word + "s")


def _candidates(
    frame: pd.DataFrame, settings: RiskSettings
) -> list[tuple[pd.Series, pd.Series, list]]:
    """(condition, severity, texts) per reason candidate, in tie-break order."""
    col = {name: _numbers(frame, name) for name in REASON_COLUMNS if name != "has_been_active"}
    active = frame["has_been_active"].astype(bool)
    pass_share = settings.pass_share
    rows = range(len(frame))

    def values(name: str) -> np.ndarray:
        return col[name].to_numpy()

    def texts(condition: pd.Series, make) -> list:
        mask = condition.to_numpy()
        return [make(i) if mask[i] else None for i in rows]

    candidates = []

    started = values("days_since_expected_start")
    condition = ~active & (col["days_since_expected_start"] >= 3)
    severity = (col["days_since_expected_start"] / 14).clip(upper=1)
    candidates.append(
        (
            condition,
            severity,
            texts(condition, lambda i: f"no activity yet, {int(started[i])} days after the start"),
        )
    )

    inactive = values("days_since_last_activity")
    condition = active & (col["days_since_last_activity"] >= 7)
    severity = (col["days_since_last_activity"] / 21).clip(upper=1)
    candidates.append(
        (
            condition,
            severity,
            texts(condition, lambda i: f"no activity for {int(inactive[i])} days"),
        )
    )

    due, missing, late = (
        values("deadlines_due"),
        values("deadlines_missing"),
        values("deadlines_late"),
    )
    condition = col["deadlines_missing"] >= 1
    severity = col["deadlines_missing"] / col["deadlines_due"].where(col["deadlines_due"] > 0)
    candidates.append(
        (
            condition,
            severity,
            texts(
                condition,
                lambda i: (
                    f"{int(missing[i])} of {int(due[i])} due "
                    f"{_plural(int(due[i]), 'activity', 'activities')} not handed in"
                ),
            ),
        )
    )

    quiz, quiz_median = values("quiz_average_so_far"), values("course_median_quiz_average")
    reference = col["course_median_quiz_average"].fillna(pass_share)
    condition = col["quiz_average_so_far"].notna() & (
        (col["quiz_average_so_far"] < pass_share)
        | (col["quiz_average_so_far"] < col["course_median_quiz_average"] - 0.1)
    )
    gap = np.maximum(
        reference - col["quiz_average_so_far"], pass_share - col["quiz_average_so_far"]
    )
    severity = (2 * gap).clip(upper=1)

    def quiz_text(i: int) -> str:
        if np.isnan(quiz_median[i]):
            return (
                f"quiz average {_percent(quiz[i])}% against a pass mark of {_percent(pass_share)}%"
            )
        return (
            f"quiz average {_percent(quiz[i])}% "
            f"against a course median of {_percent(quiz_median[i])}%"
        )

    candidates.append((condition, severity, texts(condition, quiz_text)))

    recent, recent_median = (
        values("events_last_14_days"),
        values("course_median_events_last_14_days"),
    )
    condition = (
        (col["events_last_14_days_percentile"] <= 0.25)
        & col["course_median_events_last_14_days"].notna()
        & (col["events_last_14_days"] < col["course_median_events_last_14_days"])
    )
    severity = 0.75 * (1 - col["events_last_14_days"] / col["course_median_events_last_14_days"])
    candidates.append(
        (condition, severity, texts(condition, lambda i: _recent_text(recent[i], recent_median[i])))
    )

    last_week, earlier = values("events_last_7_days"), values("earlier_weekly_events")
    condition = (col["activity_trend_ratio"] <= 0.5) & (col["earlier_weekly_events"] >= 5)
    severity = 0.7 * (1 - col["activity_trend_ratio"])
    candidates.append(
        (
            condition,
            severity,
            texts(
                condition,
                lambda i: (
                    f"{int(last_week[i])} {_plural(int(last_week[i]), 'event')} in the last 7 days "
                    f"against an earlier average of {_whole(earlier[i])} a week"
                ),
            ),
        )
    )

    condition = col["deadlines_late"] >= 1
    severity = 0.5 * col["deadlines_late"] / col["deadlines_due"].where(col["deadlines_due"] > 0)
    candidates.append(
        (
            condition,
            severity,
            texts(
                condition,
                lambda i: (
                    f"{int(late[i])} of {int(due[i])} due "
                    f"{_plural(int(due[i]), 'activity', 'activities')} handed in late"
                ),
            ),
        )
    )

    completion, completion_median = (
        values("completion_share_so_far"),
        values("course_median_completion_share"),
    )
    condition = col["completion_share_so_far"] < col["course_median_completion_share"] - 0.15
    severity = (col["course_median_completion_share"] - col["completion_share_so_far"]).clip(
        upper=1
    )
    candidates.append(
        (
            condition,
            severity,
            texts(
                condition,
                lambda i: (
                    f"{_percent(completion[i])}% of tracked activities completed "
                    f"against a course median of {_percent(completion_median[i])}%"
                ),
            ),
        )
    )

    first = values("days_to_first_activity")
    condition = col["days_to_first_activity"] >= 7
    severity = (col["days_to_first_activity"] / 28).clip(upper=0.5)
    candidates.append(
        (
            condition,
            severity,
            texts(condition, lambda i: f"first activity {int(first[i])} days after the start"),
        )
    )

    forum_median = values("course_median_forum_posts")
    condition = (col["forum_posts_so_far"] == 0) & (col["course_median_forum_posts"] >= 2)
    severity = pd.Series(0.3, index=frame.index)
    candidates.append(
        (
            condition,
            severity,
            texts(
                condition,
                lambda i: f"no forum posts against a course median of {_whole(forum_median[i])}",
            ),
        )
    )
    return candidates


def _recent_text(events: float, median: float) -> str:
    count = int(events)
    text = f"{count} {_plural(count, 'event')} in the last 14 days"
    if not np.isnan(median):
        text += f" against a course median of {_whole(median)}"
    return text


def reasons(frame: pd.DataFrame, bands: pd.Series, settings: RiskSettings) -> pd.DataFrame:
    """reason_1..reason_3 in plain words with their figures (None when fewer)."""
    require_columns(frame, REASON_COLUMNS, "the features table")
    frame = frame.reset_index(drop=True)
    picked: list[list[tuple[float, int, str]]] = [[] for _ in range(len(frame))]
    for order, (condition, severity, texts) in enumerate(_candidates(frame, settings)):
        mask = condition.fillna(False).to_numpy(dtype=bool)
        rounded = round_half_up(severity.fillna(0), 4).to_numpy()
        for i in np.flatnonzero(mask):
            picked[i].append((-rounded[i], order, texts[i]))
    at_risk = bands.isin(["high", "medium"]).to_numpy()
    recent = _numbers(frame, "events_last_14_days").to_numpy()
    recent_median = _numbers(frame, "course_median_events_last_14_days").to_numpy()
    columns = {f"reason_{n + 1}": [] for n in range(REASONS_PER_LEARNER)}
    for i, found in enumerate(picked):
        chosen = [text for _, _, text in sorted(found)[:REASONS_PER_LEARNER]]
        if not chosen and at_risk[i]:
            chosen = [_recent_text(recent[i], recent_median[i])]
        for n in range(REASONS_PER_LEARNER):
            columns[f"reason_{n + 1}"].append(chosen[n] if n < len(chosen) else None)
    return pd.DataFrame(columns, dtype=object)
