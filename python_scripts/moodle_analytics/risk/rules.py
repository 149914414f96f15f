"""The documented rules: rule-based score, risk bands, segments and reasons.

The same rules are written in SQL in models/intermediate/features/
int_risk_rule_scores.sql (the in-database fallback for engines without
Python models); tests check that both give the same results.

Rule-based score (0..1; a baseline, and the score of learners whose course
week has too few learners for the starter score to rank them):
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
Inactivity is judged against the course's own week: "no activity for N
days" holds from 7 days on and, where the cohort has a median, only when
that is at least 7 days more than the median learner's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    # From the starter score's columns (starter.starter_columns).
    "course_median_days_since_last_activity",
    "weeks_followed",
    "active_weeks_so_far",
    "active_week_share",
    "course_median_active_week_share",
    "events_so_far",
    "events_so_far_percentile",
    "course_median_events_so_far",
    "submissions_so_far",
    "course_median_submissions",
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


def _whole(values: np.ndarray) -> np.ndarray:
    """Round half up, as the SQL side does with floor(x + 0.5)."""
    return np.floor(values + 0.5)


def _integers(values: np.ndarray) -> pd.Series:
    """Whole numbers as text, truncated as int() does."""
    return pd.Series(np.trunc(values).astype(np.int64)).astype(str)


def _percents(shares: np.ndarray) -> pd.Series:
    return _integers(_whole(shares * 100))


def _plural(counts: np.ndarray, word: str, plural: str | None = None) -> np.ndarray:
    return np.where(np.trunc(counts) == 1, word, plural or word + "s")


@dataclass(frozen=True)
class _Candidate:
    """A reason candidate: where it holds, how severe it is, and its text there."""

    holds: np.ndarray  # bool per row
    severity: np.ndarray  # per row, rounded half up to 4 decimals
    texts: np.ndarray  # object per row: the text where it holds, else None


def _candidate(
    condition: pd.Series, severity: pd.Series, text: Callable[[np.ndarray], pd.Series]
) -> _Candidate:
    """text(rows) gives the texts of the rows (positions) where condition holds."""
    holds = condition.fillna(False).to_numpy(dtype=bool)
    texts = np.full(len(holds), None, dtype=object)
    rows = np.flatnonzero(holds)
    if len(rows):
        texts[rows] = np.asarray(text(rows), dtype=object)
    return _Candidate(holds, round_half_up(severity.fillna(0), 4).to_numpy(), texts)


def _recent_texts(events: np.ndarray, medians: np.ndarray) -> pd.Series:
    text = _integers(events) + " " + _plural(events, "event") + " in the last 14 days"
    against = " against a course median of " + _integers(_whole(np.nan_to_num(medians)))
    return text + np.where(np.isnan(medians), "", against)


def _candidates(frame: pd.DataFrame, settings: RiskSettings) -> list[_Candidate]:
    """The reason candidates, in tie-break order; rows are positions in frame."""
    col = {name: _numbers(frame, name) for name in REASON_COLUMNS if name != "has_been_active"}
    active = frame["has_been_active"].astype(bool)
    pass_share = settings.pass_share

    def values(name: str, rows: np.ndarray) -> np.ndarray:
        return col[name].to_numpy()[rows]

    def figure_text(column: str, before: str, after: str) -> Callable[[np.ndarray], pd.Series]:
        def text(rows: np.ndarray) -> pd.Series:
            return before + _integers(values(column, rows)) + after

        return text

    def due_text(count_column: str, ending: str) -> Callable[[np.ndarray], pd.Series]:
        def text(rows: np.ndarray) -> pd.Series:
            due = values("deadlines_due", rows)
            return (
                _integers(values(count_column, rows))
                + " of "
                + _integers(due)
                + " due "
                + _plural(due, "activity", "activities")
                + ending
            )

        return text

    def quiz_text(rows: np.ndarray) -> pd.Series:
        medians = values("course_median_quiz_average", rows)
        against = np.where(
            np.isnan(medians),
            f"a pass mark of {_whole(pass_share * 100):.0f}%",
            "a course median of " + _percents(np.nan_to_num(medians)) + "%",
        )
        return (
            "quiz average "
            + _percents(values("quiz_average_so_far", rows))
            + "% against "
            + against
        )

    def trend_text(rows: np.ndarray) -> pd.Series:
        last_week = values("events_last_7_days", rows)
        return (
            _integers(last_week)
            + " "
            + _plural(last_week, "event")
            + " in the last 7 days against an earlier average of "
            + _integers(_whole(values("earlier_weekly_events", rows)))
            + " a week"
        )

    def completion_text(rows: np.ndarray) -> pd.Series:
        return (
            _percents(values("completion_share_so_far", rows))
            + "% of tracked activities completed against a course median of "
            + _percents(values("course_median_completion_share", rows))
            + "%"
        )

    def inactivity_text(rows: np.ndarray) -> pd.Series:
        medians = values("course_median_days_since_last_activity", rows)
        days_ago = _whole(np.nan_to_num(medians))
        ago = np.where(
            days_ago == 0,
            "today",
            _integers(days_ago) + " " + _plural(days_ago, "day") + " ago",
        )
        while_text = np.where(
            np.isnan(medians), "", " while the course median learner was active " + ago
        )
        return (
            "no activity for "
            + _integers(values("days_since_last_activity", rows))
            + " days"
            + while_text
        )

    def versus_median(
        column: str, median: str, unit: str, plural: str, ending: str
    ) -> Callable[[np.ndarray], pd.Series]:
        def text(rows: np.ndarray) -> pd.Series:
            counts = values(column, rows)
            return (
                _integers(counts)
                + " "
                + _plural(counts, unit, plural)
                + ending
                + " against a course median of "
                + _integers(_whole(values(median, rows)))
            )

        return text

    def regularity_text(rows: np.ndarray) -> pd.Series:
        return (
            "active in "
            + _integers(values("active_weeks_so_far", rows))
            + " of "
            + _integers(values("weeks_followed", rows))
            + " weeks so far ("
            + _percents(values("active_week_share", rows))
            + "%) against a course median of "
            + _percents(values("course_median_active_week_share", rows))
            + "%"
        )

    inactive = col["days_since_last_activity"]
    inactive_median = col["course_median_days_since_last_activity"]
    regularity, regularity_median = col["active_week_share"], col["course_median_active_week_share"]
    so_far, so_far_median = col["events_so_far"], col["course_median_events_so_far"]
    handed_in, handed_in_median = col["submissions_so_far"], col["course_median_submissions"]
    quiz = col["quiz_average_so_far"]
    quiz_reference = col["course_median_quiz_average"].fillna(pass_share)
    quiz_gap = np.maximum(quiz_reference - quiz, pass_share - quiz)
    due = col["deadlines_due"].where(col["deadlines_due"] > 0)
    trend = col["activity_trend_ratio"]
    recent, recent_median = col["events_last_14_days"], col["course_median_events_last_14_days"]
    completion = col["completion_share_so_far"]
    completion_median = col["course_median_completion_share"]
    return [
        _candidate(
            ~active & (col["days_since_expected_start"] >= 3),
            (col["days_since_expected_start"] / 14).clip(upper=1),
            figure_text("days_since_expected_start", "no activity yet, ", " days after the start"),
        ),
        _candidate(
            active & (inactive >= 7) & (inactive_median.isna() | (inactive - inactive_median >= 7)),
            ((inactive - inactive_median.fillna(0)) / 21).clip(upper=1),
            inactivity_text,
        ),
        _candidate(
            col["deadlines_missing"] >= 1,
            col["deadlines_missing"] / due,
            due_text("deadlines_missing", " not handed in"),
        ),
        _candidate(
            quiz.notna() & ((quiz < pass_share) | (quiz < col["course_median_quiz_average"] - 0.1)),
            (2 * quiz_gap).clip(upper=1),
            quiz_text,
        ),
        _candidate(
            (col["events_last_14_days_percentile"] <= 0.25)
            & recent_median.notna()
            & (recent < recent_median),
            0.75 * (1 - recent / recent_median),
            lambda rows: _recent_texts(
                values("events_last_14_days", rows),
                values("course_median_events_last_14_days", rows),
            ),
        ),
        _candidate(
            (trend <= 0.5) & (col["earlier_weekly_events"] >= 5), 0.7 * (1 - trend), trend_text
        ),
        _candidate(
            col["deadlines_late"] >= 1,
            0.5 * col["deadlines_late"] / due,
            due_text("deadlines_late", " handed in late"),
        ),
        _candidate(
            completion < completion_median - 0.15,
            (completion_median - completion).clip(upper=1),
            completion_text,
        ),
        _candidate(
            col["days_to_first_activity"] >= 7,
            (col["days_to_first_activity"] / 28).clip(upper=0.5),
            figure_text("days_to_first_activity", "first activity ", " days after the start"),
        ),
        _candidate(
            (col["forum_posts_so_far"] == 0) & (col["course_median_forum_posts"] >= 2),
            pd.Series(0.3, index=frame.index),
            lambda rows: (
                "no forum posts against a course median of "
                + _integers(_whole(values("course_median_forum_posts", rows)))
            ),
        ),
        _candidate(
            (col["weeks_followed"] >= 3) & (regularity <= regularity_median - 0.25),
            0.8 * (regularity_median - regularity),
            regularity_text,
        ),
        _candidate(
            (col["events_so_far_percentile"] <= 0.25) & (so_far < so_far_median),
            0.6 * (1 - so_far / so_far_median),
            versus_median(
                "events_so_far", "course_median_events_so_far", "event", "events", " so far"
            ),
        ),
        # Where due dates are known, the due activities not handed in say more.
        _candidate(
            (col["deadlines_due"].fillna(0) == 0) & (handed_in <= handed_in_median - 1),
            0.6 * (1 - handed_in / handed_in_median),
            versus_median(
                "submissions_so_far",
                "course_median_submissions",
                "assignment",
                "assignments",
                " handed in so far",
            ),
        ),
    ]


def reasons(frame: pd.DataFrame, bands: pd.Series, settings: RiskSettings) -> pd.DataFrame:
    """reason_1..reason_3 in plain words with their figures (None when fewer)."""
    require_columns(frame, REASON_COLUMNS, "the features table")
    frame = frame.reset_index(drop=True)
    candidates = _candidates(frame, settings)
    holds = np.column_stack([candidate.holds for candidate in candidates])
    severity = np.column_stack([candidate.severity for candidate in candidates])
    texts = np.column_stack([candidate.texts for candidate in candidates])
    # Most severe first; a stable sort keeps the listed order among equals.
    order = np.argsort(np.where(holds, -severity, np.inf), axis=1, kind="stable")
    order = order[:, :REASONS_PER_LEARNER]
    chosen = np.where(
        np.take_along_axis(holds, order, axis=1), np.take_along_axis(texts, order, axis=1), None
    )
    without = np.flatnonzero(~holds.any(axis=1) & bands.isin(["high", "medium"]).to_numpy())
    if len(without):
        chosen[without, 0] = np.asarray(
            _recent_texts(
                _numbers(frame, "events_last_14_days").to_numpy()[without],
                _numbers(frame, "course_median_events_last_14_days").to_numpy()[without],
            ),
            dtype=object,
        )
    return pd.DataFrame(
        {f"reason_{n + 1}": chosen[:, n] for n in range(REASONS_PER_LEARNER)}, dtype=object
    )
