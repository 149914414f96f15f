"""How good a risk score is, per course week: the figures every table uses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

METRIC_COLUMNS = (
    "learner_weeks",
    "dropouts",
    "roc_auc",
    "pr_auc",
    "f1_score",
    "top_decile_precision",
    "brier_score",
)
# The scores' figures as the risk tables type them (after counts of their own grain).
SCORE_METRIC_TYPES = {
    "roc_auc": "float64",
    "pr_auc": "float64",
    "f1_score": "float64",
    "top_decile_precision": "float64",
    "brier_score": "float64",
}


def top_share_precision(labels: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float:
    """Share of dropouts among the riskiest `share` of learners (at least one learner)."""
    if not len(labels):
        return math.nan
    # Rounded first: 0.1 * 30 is 3.0000000000000004 in floating point.
    count = max(1, math.ceil(round(share * len(labels), 9)))
    # Stable sort on the negated score: ties keep their order.
    riskiest = np.argsort(-scores, kind="stable")[:count]
    return float(labels[riskiest].mean())


def f1_at(labels: np.ndarray, flagged: np.ndarray) -> float:
    """F1 of flagging dropouts: 2 TP / (2 TP + FP + FN), 0 when nothing is
    flagged and nobody dropped out."""
    true_positives = int(np.sum(flagged & (labels == 1)))
    wrong = int(np.sum(flagged != (labels == 1)))
    denominator = 2 * true_positives + wrong
    return 2 * true_positives / denominator if denominator else 0.0


def _share(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def score_metrics(
    labels: np.ndarray,
    ranking: np.ndarray,
    probabilities: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict[str, float]:
    """ROC AUC, PR AUC and top-10% precision of a ranking; F1 (at `threshold`) and
    Brier score of probabilities (the ranking itself when none are given).
    AUCs are NaN when only one class is present."""
    labels = np.asarray(labels, dtype=int)
    ranking = np.asarray(ranking, dtype=float)
    probabilities = ranking if probabilities is None else np.asarray(probabilities, dtype=float)
    both_classes = 0 < labels.sum() < len(labels)
    return {
        "learner_weeks": len(labels),
        "dropouts": int(labels.sum()),
        # Clipped: summing precisions can overshoot 1 by a rounding error.
        "roc_auc": _share(roc_auc_score(labels, ranking)) if both_classes else math.nan,
        "pr_auc": _share(average_precision_score(labels, ranking)) if both_classes else math.nan,
        "f1_score": f1_at(labels, probabilities >= threshold) if len(labels) else math.nan,
        "top_decile_precision": top_share_precision(labels, ranking),
        "brier_score": (float(np.mean((probabilities - labels) ** 2)) if len(labels) else math.nan),
    }


def metrics_by_week(
    frame: pd.DataFrame,
    ranking: str,
    probability: str | None = None,
    label: str = "is_dropout",
    week: str = "course_week_number",
    threshold: float = 0.5,
) -> pd.DataFrame:
    """score_metrics per course week, plus one row for all weeks (week = NaN).

    `frame` holds one row per learner-course and week, so within a week each
    learner-course counts once."""
    rows = []
    # Only the columns read: splitting the others by week would cost more than the metrics.
    read = [week, label, ranking] + ([] if probability in (None, ranking) else [probability])
    frame = frame[read]
    groups = [(value, part) for value, part in frame.groupby(week, sort=True)]
    groups.append((math.nan, frame))
    for value, part in groups:
        figures = score_metrics(
            part[label].to_numpy(dtype=int),
            part[ranking].to_numpy(dtype=float),
            None if probability is None else part[probability].to_numpy(dtype=float),
            threshold,
        )
        rows.append({week: value, **figures})
    result = pd.DataFrame(rows, columns=[week, *METRIC_COLUMNS])
    result[week] = result[week].astype("Int64")
    return result
