"""How good the risk scores are against an outcome the school brings.

The school's outcomes (one row per learner-course: did the learner fail?) are
joined to the learners inside dbt (int_learner_outcomes_matched); this module
takes the matched learner-courses and measures, for every course week, the
risk score served, the starter score and simple baselines computed from the
marts against that outcome: ROC AUC and PR AUC, recall and precision of the
high band and of high + medium, the Brier score, a calibration table, and
bootstrap 95% intervals (learner-courses resampled with replacement, the
same samples for every score of a week, so gains over a baseline are paired).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score

from moodle_analytics.risk.backtest import auc_figure, save_auc_figure
from moodle_analytics.risk.features import require_columns
from moodle_analytics.risk.scoring import typed
from moodle_analytics.risk.settings import RiskSettings


@dataclass(frozen=True)
class EvaluatedScore:
    name: str
    label: str  # in plain words, for reports and the dashboard
    is_baseline: bool
    is_probability: bool  # has bands, a Brier score and a calibration table


SCORES = (
    EvaluatedScore("risk_score", "risk score served (dropout_probability)", False, True),
    EvaluatedScore("starter_score", "starter score", False, True),
    EvaluatedScore("rule_based_score", "rule-based score", True, True),
    EvaluatedScore("minus_events_so_far", "fewest events so far", True, False),
    EvaluatedScore("minus_active_days_so_far", "fewest active days so far", True, False),
    EvaluatedScore("days_since_last_activity", "most days since the last activity", True, False),
)

# The columns read from each table (a dbt Python model can load just these).
OUTCOME_COLUMNS = ("learner_course_id", "match_status", "is_positive", "outcome_name")
SCORE_COLUMNS = (
    "learner_week_id",
    "learner_course_id",
    "course_week_number",
    "dropout_probability",
    "starter_score",
    "rule_based_score",
    "score_method",
)
FEATURE_COLUMNS = (
    "learner_week_id",
    "course_progress_share",
    "events_so_far",
    "active_days_so_far",
    "days_since_last_activity",
)

EVALUATION_COLUMNS = {
    "evaluation_row_id": "object",
    "outcome_name": "object",
    "score_name": "object",
    "score_label": "object",
    "score_methods": "object",
    "best_baseline_name": "object",
    "course_week_number": "Int32",
    "course_progress_share": "float64",
    "learner_courses": "Int32",
    "positives": "Int32",
    "roc_auc": "float64",
    "roc_auc_low": "float64",
    "roc_auc_high": "float64",
    "pr_auc": "float64",
    "brier_score": "float64",
    "high_band_recall": "float64",
    "high_band_precision": "float64",
    "high_or_medium_recall": "float64",
    "high_or_medium_recall_low": "float64",
    "high_or_medium_recall_high": "float64",
    "high_or_medium_precision": "float64",
    "roc_auc_gain": "float64",
    "roc_auc_gain_low": "float64",
    "roc_auc_gain_high": "float64",
    "bootstrap_samples": "Int32",
    "outcome_rows": "Int32",
    "matched_learner_courses": "Int32",
    "unmatched_outcome_rows": "Int32",
    "is_baseline": "bool",
}

CALIBRATION_COLUMNS = {
    "calibration_row_id": "object",
    "outcome_name": "object",
    "score_name": "object",
    "probability_bin": "object",
    "course_week_number": "Int32",
    "bin_lower": "float64",
    "bin_upper": "float64",
    "learner_courses": "Int32",
    "positives": "Int32",
    "mean_predicted": "float64",
    "observed_rate": "float64",
}

CALIBRATION_BINS = 10
# Bootstrap samples are ranked in blocks of about this many values.
BLOCK_VALUES = 2_000_000


def scored_weeks(
    outcomes: pd.DataFrame, scores: pd.DataFrame, features: pd.DataFrame
) -> pd.DataFrame:
    """One row per matched learner-course and course week: the outcome and every score."""
    require_columns(outcomes, OUTCOME_COLUMNS, "int_learner_outcomes_matched")
    require_columns(scores, SCORE_COLUMNS, "fct_learner_risk_scores")
    require_columns(features, FEATURE_COLUMNS, "int_risk_features")
    matched = outcomes[outcomes["match_status"] == "matched"]
    rows = scores[list(SCORE_COLUMNS)].merge(
        matched[["learner_course_id", "is_positive"]], on="learner_course_id", how="inner"
    )
    rows = rows.merge(features[list(FEATURE_COLUMNS)], on="learner_week_id", how="inner")
    rows = rows.sort_values(["course_week_number", "learner_week_id"], kind="stable")
    numbers = {name: pd.to_numeric(rows[name].astype("float64")) for name in FEATURE_COLUMNS[1:]}
    return pd.DataFrame(
        {
            "course_week_number": rows["course_week_number"].astype(int).to_numpy(),
            "course_progress_share": numbers["course_progress_share"].to_numpy(),
            "is_positive": rows["is_positive"].astype(bool).to_numpy(),
            "score_method": rows["score_method"].astype(str).to_numpy(),
            "risk_score": rows["dropout_probability"].astype("float64").to_numpy(),
            "starter_score": rows["starter_score"].astype("float64").to_numpy(),
            "rule_based_score": rows["rule_based_score"].astype("float64").to_numpy(),
            "minus_events_so_far": -numbers["events_so_far"].to_numpy(),
            "minus_active_days_so_far": -numbers["active_days_so_far"].to_numpy(),
            "days_since_last_activity": numbers["days_since_last_activity"].to_numpy(),
        }
    )


def bootstrap_roc_auc(labels: np.ndarray, scores: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """ROC AUC (ties count half) of each bootstrap sample (rows of indices);
    NaN where a sample holds one class only."""
    aucs = np.empty(len(samples))
    block = max(1, BLOCK_VALUES // max(1, samples.shape[1]))
    for start in range(0, len(samples), block):
        indices = samples[start : start + block]
        positive = labels[indices]
        ranks = rankdata(scores[indices], axis=1, method="average")
        count = positive.sum(axis=1)
        other = positive.shape[1] - count
        with np.errstate(invalid="ignore", divide="ignore"):
            aucs[start : start + block] = (
                (ranks * positive).sum(axis=1) - count * (count + 1) / 2
            ) / (count * other)
    return aucs


def interval(values: np.ndarray) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the finite values."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return math.nan, math.nan
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def _share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def band_figures(labels: np.ndarray, probability: np.ndarray, settings: RiskSettings) -> dict:
    """Recall and precision of the high band and of high + medium."""
    positives = int(labels.sum())
    high = probability >= settings.high_threshold
    flagged = probability >= settings.medium_threshold
    return {
        "high_band_recall": _share(int((high & labels).sum()), positives),
        "high_band_precision": _share(int((high & labels).sum()), int(high.sum())),
        "high_or_medium_recall": _share(int((flagged & labels).sum()), positives),
        "high_or_medium_precision": _share(int((flagged & labels).sum()), int(flagged.sum())),
    }


def _filled(values: np.ndarray) -> np.ndarray:
    """A score unknown for some learners (the starter score in a small course
    week) ranks them at the week's median, as the models do."""
    known = ~np.isnan(values)
    return np.where(known, values, np.nanmedian(values) if known.any() else 0.0)


@dataclass
class WeekRanking:
    """One course week: its labels, bootstrap samples, and each score's ROC AUC
    (point and per sample)."""

    labels: np.ndarray
    draws: np.ndarray | None
    point: dict[str, float]
    resampled: dict[str, np.ndarray]

    @classmethod
    def of(cls, week: pd.DataFrame, samples: int, generator: np.random.Generator) -> WeekRanking:
        labels = week["is_positive"].to_numpy(dtype=bool)
        both_classes = 0 < labels.sum() < len(labels)
        draws = generator.integers(0, len(week), size=(samples, len(week))) if samples else None
        point, resampled = {}, {}
        for score in SCORES:
            values = week[score.name].to_numpy(dtype=float)
            ranks = both_classes and not np.isnan(values).all()
            filled = _filled(values)
            point[score.name] = roc_auc_score(labels, filled) if ranks else math.nan
            resampled[score.name] = (
                bootstrap_roc_auc(labels, filled, draws)
                if ranks and draws is not None
                else np.full(0, math.nan)
            )
        return cls(labels, draws, point, resampled)

    def best_baseline(self) -> str | None:
        """The baseline with the highest ROC AUC; on a tie the first listed."""
        known = [s.name for s in SCORES if s.is_baseline and not math.isnan(self.point[s.name])]
        return max(known, key=lambda name: self.point[name]) if known else None


def probability_figures(
    values: np.ndarray, ranking: WeekRanking, settings: RiskSettings
) -> dict[str, float]:
    """Brier score and bands of a probability score, with the high + medium
    recall's bootstrap interval (learners it cannot rank left out)."""
    labels, known = ranking.labels, ~np.isnan(values)
    if not known.any():
        return {}
    figures = {"brier_score": float(np.mean((values[known] - labels[known]) ** 2))}
    figures.update(band_figures(labels[known], values[known], settings))
    if ranking.draws is not None and len(ranking.draws):
        caught = ((values >= settings.medium_threshold) & labels)[ranking.draws].sum(axis=1)
        positives = labels[ranking.draws].sum(axis=1)
        recall = np.where(positives > 0, caught / np.maximum(positives, 1), np.nan)
        figures["high_or_medium_recall_low"], figures["high_or_medium_recall_high"] = interval(
            recall
        )
    return figures


def week_rows(
    week: pd.DataFrame, settings: RiskSettings, samples: int, generator: np.random.Generator
) -> list[dict]:
    """The figures of every score in one course week."""
    ranking = WeekRanking.of(week, samples, generator)
    best = ranking.best_baseline()
    rows = []
    for score in SCORES:
        values = week[score.name].to_numpy(dtype=float)
        low, high = interval(ranking.resampled[score.name])
        row = {
            "score_name": score.name,
            "score_label": score.label,
            "is_baseline": score.is_baseline,
            "learner_courses": len(week),
            "positives": int(ranking.labels.sum()),
            "course_progress_share": float(week["course_progress_share"].mean()),
            "roc_auc": ranking.point[score.name],
            "roc_auc_low": low,
            "roc_auc_high": high,
            "pr_auc": (
                average_precision_score(ranking.labels, _filled(values))
                if not math.isnan(ranking.point[score.name])
                else math.nan
            ),
            "score_methods": (
                ", ".join(sorted(week["score_method"].unique()))
                if score.name == "risk_score"
                else None
            ),
        }
        if score.is_probability:
            row.update(probability_figures(values, ranking, settings))
        if not score.is_baseline and best is not None:
            row["best_baseline_name"] = best
            row["roc_auc_gain"] = ranking.point[score.name] - ranking.point[best]
            row["roc_auc_gain_low"], row["roc_auc_gain_high"] = interval(
                ranking.resampled[score.name] - ranking.resampled[best]
            )
        rows.append(row)
    return rows


def evaluation_table(
    outcomes: pd.DataFrame,
    scores: pd.DataFrame,
    features: pd.DataFrame,
    settings: RiskSettings,
    samples: int = 1000,
) -> pd.DataFrame:
    """rpt_risk_evaluation: every score against the school's outcome, per course week."""
    weeks = scored_weeks(outcomes, scores, features)
    generator = np.random.default_rng(settings.random_seed)
    rows = []
    for week_number, week in weeks.groupby("course_week_number", sort=True):
        for row in week_rows(week, settings, samples, generator):
            rows.append({"course_week_number": week_number, **row})
    table = pd.DataFrame(rows, columns=[c for c in EVALUATION_COLUMNS if c not in _CONSTANT])
    matched = outcomes["match_status"] == "matched"
    table["outcome_name"] = _outcome_name(outcomes)
    table["bootstrap_samples"] = samples
    table["outcome_rows"] = len(outcomes)
    table["matched_learner_courses"] = int(matched.sum())
    table["unmatched_outcome_rows"] = int((~matched).sum())
    table["evaluation_row_id"] = (
        table["score_name"] + "-" + table["course_week_number"].astype("string")
    )
    return typed(table, EVALUATION_COLUMNS)


_CONSTANT = {
    "evaluation_row_id",
    "outcome_name",
    "bootstrap_samples",
    "outcome_rows",
    "matched_learner_courses",
    "unmatched_outcome_rows",
}


def _outcome_name(outcomes: pd.DataFrame) -> str | None:
    names = outcomes["outcome_name"].dropna().unique()
    return str(names[0]) if len(names) else None


def calibration_table(
    outcomes: pd.DataFrame, scores: pd.DataFrame, features: pd.DataFrame
) -> pd.DataFrame:
    """rpt_risk_calibration: per probability score, course week and tenth of the
    probability scale, how many learners it held and how many had the outcome."""
    weeks = scored_weeks(outcomes, scores, features)
    rows = []
    for score in (s for s in SCORES if s.is_probability):
        values = weeks[score.name].to_numpy(dtype=float)
        known = ~np.isnan(values)
        bins = np.minimum((values[known] * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
        part = weeks[known].assign(bin=bins, probability=values[known])
        grouped = part.groupby(["course_week_number", "bin"], sort=True)
        for (week_number, number), cell in grouped:
            rows.append(
                {
                    "score_name": score.name,
                    "course_week_number": week_number,
                    "bin_lower": number / CALIBRATION_BINS,
                    "bin_upper": (number + 1) / CALIBRATION_BINS,
                    "learner_courses": len(cell),
                    "positives": int(cell["is_positive"].sum()),
                    "mean_predicted": float(cell["probability"].mean()),
                    "observed_rate": float(cell["is_positive"].mean()),
                }
            )
    table = pd.DataFrame(
        rows, columns=[c for c in CALIBRATION_COLUMNS if c not in _CALIBRATION_KEYS]
    )
    table["outcome_name"] = _outcome_name(outcomes)
    table["probability_bin"] = (
        table["bin_lower"].map("{:.1f}".format) + "-" + table["bin_upper"].map("{:.1f}".format)
    )
    table["calibration_row_id"] = (
        table["score_name"]
        + "-"
        + table["course_week_number"].astype("string")
        + "-"
        + table["probability_bin"]
    )
    return typed(table, CALIBRATION_COLUMNS)


_CALIBRATION_KEYS = {"calibration_row_id", "outcome_name", "probability_bin"}


def plot_evaluation(table: pd.DataFrame, path: Path, title: str) -> Path:
    """A PNG of ROC AUC by course week: the risk score and the starter score
    with their 95% intervals, the baselines as dashed lines."""
    figure, axes = auc_figure()
    for score in SCORES:
        rows = table[table["score_name"] == score.name].sort_values("course_week_number")
        weeks = rows["course_week_number"].astype(float)
        if score.is_baseline:
            axes.plot(weeks, rows["roc_auc"], linestyle="--", linewidth=1, label=score.label)
            continue
        (line,) = axes.plot(weeks, rows["roc_auc"], marker="o", linewidth=2, label=score.label)
        axes.fill_between(
            weeks, rows["roc_auc_low"], rows["roc_auc_high"], color=line.get_color(), alpha=0.15
        )
    return save_auc_figure(figure, axes, path, title)
