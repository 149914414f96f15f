"""The backtest: how the as-of risk scores of finished courses compare with
what happened, course week by course week.

Every score in fct_learner_risk_scores already comes from a model trained
only on outcomes known before that week (see scoring.py), so replaying the
past is reading those scores for learner-courses whose outcome is now known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from moodle_analytics.risk.features import require_columns
from moodle_analytics.risk.metrics import METRIC_COLUMNS, SCORE_METRIC_TYPES, metrics_by_week
from moodle_analytics.risk.scoring import typed

# The columns the backtest reads (a model can load just these).
BACKTEST_SCORE_COLUMNS = (
    "learner_week_id",
    "course_id",
    "course_week_number",
    "dropout_probability",
    "score_method",
    "model_name",
)
BACKTEST_LABEL_COLUMNS = ("learner_week_id", "is_outcome_known", "is_dropout")

ALL_COHORTS = "all"
NO_START_DATE = "no start date"

BACKTEST_COLUMNS = {
    "backtest_row_id": "object",
    "cohort_name": "object",
    "score_method": "object",
    "course_week_number": "Int32",
    "learner_courses": "Int32",
    "dropouts": "Int32",
    **SCORE_METRIC_TYPES,
    "dropout_rate": "float64",
    "mean_dropout_probability": "float64",
    "model_names": "object",
}


def cohort_names(course_starts: pd.Series) -> pd.Series:
    """A cohort per course start month ('2026-03'); courses without a start date
    (self-paced, each learner on their own calendar) form one cohort."""
    starts = pd.to_datetime(course_starts)
    names = starts.dt.strftime("%Y-%m").astype(object)
    return names.where(starts.notna(), NO_START_DATE)


def backtest_table(
    scores: pd.DataFrame, features: pd.DataFrame, courses: pd.DataFrame, threshold: float = 0.5
) -> pd.DataFrame:
    """rpt_risk_backtest: metrics per cohort (and all cohorts), score method and
    course week, for learner-courses whose outcome is known."""
    require_columns(scores, BACKTEST_SCORE_COLUMNS, "fct_learner_risk_scores")
    require_columns(features, BACKTEST_LABEL_COLUMNS, "int_risk_features")
    require_columns(courses, ("course_id", "starts_at"), "dim_courses")
    rows = scores[list(BACKTEST_SCORE_COLUMNS)].merge(
        features[list(BACKTEST_LABEL_COLUMNS)], on="learner_week_id", how="inner"
    )
    rows = rows[rows["is_outcome_known"].fillna(False).astype(bool) & rows["is_dropout"].notna()]
    # Ties in the top 10% are taken in learner_week_id order, as in SQL.
    rows = rows.assign(is_dropout=rows["is_dropout"].astype(bool)).sort_values(
        "learner_week_id", kind="stable"
    )
    cohorts = courses.set_index("course_id")["starts_at"]
    rows = rows.assign(cohort_name=cohort_names(rows["course_id"].map(cohorts)).to_numpy())
    parts = []
    for cohort, cohort_rows in [(ALL_COHORTS, rows), *rows.groupby("cohort_name", sort=True)]:
        for method, method_rows in cohort_rows.groupby("score_method", sort=True):
            table = metrics_by_week(method_rows, "dropout_probability", threshold=threshold)
            table = table[table["course_week_number"].notna()]
            per_week = method_rows.groupby("course_week_number")
            names = (
                method_rows[["course_week_number", "model_name"]]
                .drop_duplicates()
                .sort_values(["course_week_number", "model_name"])
                .groupby("course_week_number")["model_name"]
            )
            extra = pd.DataFrame(
                {
                    "dropout_rate": per_week["is_dropout"].mean(),
                    "mean_dropout_probability": per_week["dropout_probability"].mean(),
                    "model_names": names.agg(", ".join),
                }
            )
            table = table.merge(extra, left_on="course_week_number", right_index=True, how="left")
            parts.append(table.assign(cohort_name=cohort, score_method=method))
    if parts:
        table = pd.concat(parts, ignore_index=True)
    else:
        table = pd.DataFrame(
            columns=[*METRIC_COLUMNS, "course_week_number", "cohort_name", "score_method"]
        )
    table = table.rename(columns={"learner_weeks": "learner_courses"})
    table["backtest_row_id"] = (
        table["cohort_name"].astype(str)
        + "-"
        + table["course_week_number"].astype("string").fillna("")
        + "-"
        + table["score_method"].astype(str)
    )
    for column in ("dropout_rate", "mean_dropout_probability", "model_names"):
        if column not in table:
            table[column] = np.nan
    return typed(table, BACKTEST_COLUMNS)


def auc_figure():
    """A figure and axes for ROC AUC by course week (drawn off-screen)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot.subplots(figsize=(8, 4.5), dpi=110)


def save_auc_figure(figure, axes, path: Path, title: str) -> Path:
    """The AUC axes finished the same way for every plot, written as a PNG."""
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    axes.axhline(0.5, color="grey", linewidth=0.5, linestyle=":")
    axes.set_ylim(0.4, 1.01)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("course week the score is as of")
    axes.set_ylabel("ROC AUC against the outcome")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
    return path


def plot_auc_by_week(
    backtest: pd.DataFrame, path: Path, title: str = "Risk score backtest"
) -> Path:
    """A PNG of ROC AUC by course week: all cohorts per score method, and each
    cohort's model scores as thin lines."""
    figure, axes = auc_figure()
    cohorts = backtest[
        (backtest["cohort_name"] != ALL_COHORTS) & (backtest["score_method"] == "model")
    ]
    for cohort, rows in cohorts.groupby("cohort_name"):
        axes.plot(
            rows["course_week_number"],
            rows["roc_auc"],
            linewidth=0.8,
            alpha=0.5,
            label=f"{cohort} (model)",
        )
    everyone = backtest[backtest["cohort_name"] == ALL_COHORTS]
    for method, rows in everyone.groupby("score_method"):
        axes.plot(
            rows["course_week_number"],
            rows["roc_auc"],
            marker="o",
            linewidth=2,
            label=f"all cohorts ({method})",
        )
    return save_auc_figure(figure, axes, path, title)
