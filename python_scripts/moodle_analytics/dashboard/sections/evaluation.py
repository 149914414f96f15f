"""The risk scores against an outcome the school loaded with moodle-risk-evaluate
(rpt_risk_evaluation): ROC AUC by course week beside simple baselines, and the served
score at 20, 40, 60 and 80% of the course."""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from moodle_analytics.dashboard import charts
from moodle_analytics.dashboard.charts import Axis, Band, Series, percent
from moodle_analytics.dashboard.sections.parts import empty, figure, section, table
from moodle_analytics.dashboard.sections.values import as_float, as_text
from moodle_analytics.dashboard.warehouse import Warehouse

SCORE_NAMES = {
    "risk_score": "Risk score served",
    "starter_score": "Starter score",
    "rule_based_score": "Rule-based score (baseline)",
    "minus_events_so_far": "Fewest events so far (baseline)",
    "minus_active_days_so_far": "Fewest active days so far (baseline)",
    "days_since_last_activity": "Most days since the last activity (baseline)",
}


@section("risk-evaluation", needs=["rpt_risk_evaluation"])
def risk_evaluation(wh: Warehouse) -> str:
    """How good the risk scores are against the school's outcomes

    Scores computed as of each course week with only what was knowable then, checked
    against an outcome the school chose and loaded with moodle-risk-evaluate (not the
    project's own dropout label), beside simple baselines from the same data. AUC 0.5 is
    guessing, 1.0 is perfect.
    """
    frame = wh.frame("select * from {e} order by course_week_number", e="rpt_risk_evaluation")
    if frame.empty:
        return (
            '<p class="missing">No outcomes loaded yet: run <code>moodle-risk-evaluate</code> '
            "(<code>make risk-evaluate</code>) with a file of what happened to the learners "
            "(a gradebook export, a pass/fail list), then generate the page again.</p>"
        )
    served = frame[frame["score_name"] == "risk_score"]
    if served.empty:
        return empty("The evaluation holds no figures for the risk score served.")
    first = frame.iloc[0]
    positives = int(served["positives"].max())
    learners = int(served["learner_courses"].max())
    summary = (
        f'<p class="note">Outcome: <strong>{escape(as_text(first["outcome_name"]))}</strong>, '
        f"{positives:,} of {learners:,} learner-courses "
        f"({int(first['matched_learner_courses']):,} rows of the school's file matched, "
        f"{int(first['unmatched_outcome_rows']):,} left out; intervals from "
        f"{int(first['bootstrap_samples']):,} bootstrap samples).</p>"
    )
    return summary + _auc_chart(frame, positives) + _served_table(served)


@figure("evaluation-auc", wide=True)
def _auc_chart(frame: pd.DataFrame, positives: int) -> str:
    """ROC AUC by course week

    How well each week's scores rank the learner-courses with the outcome above the others;
    shaded: the 95% intervals of the scores, dashed: the baselines.
    """
    series, bands = [], []
    for index, (name, label) in enumerate(SCORE_NAMES.items()):
        rows = frame[frame["score_name"] == name].sort_values("course_week_number")
        weeks = rows["course_week_number"].astype(float).tolist()
        baseline = bool(rows["is_baseline"].any()) if len(rows) else True
        series.append(
            Series(
                label,
                list(zip(weeks, rows["roc_auc"].astype(float), strict=True)),
                colour=charts.PALETTE[index % len(charts.PALETTE)],
                dashed=baseline,
                width=1.5 if baseline else 2.5,
                markers=not baseline,
            )
        )
        if not baseline:
            spread = zip(weeks, rows["roc_auc_low"], rows["roc_auc_high"], strict=True)
            points = [(week, as_float(low), as_float(high)) for week, low, high in spread]
            points = [p for p in points if not (math.isnan(p[1]) or math.isnan(p[2]))]
            if points:
                bands.append(Band(f"{label}: 95% interval", points))
    weeks = sorted(frame["course_week_number"].astype(float).unique())
    step = max(1, math.ceil(len(weeks) / 20))
    return charts.line_chart(
        series,
        Axis("Course week the score is as of", format=lambda v: f"{v:.0f}", ticks=weeks[::step]),
        Axis(
            "ROC AUC",
            format=lambda v: f"{v:.2f}",
            domain=(0.4, 1.0),
            ticks=[0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        ),
        bands=bands,
        reference=(0.5, "0.5 = guessing"),
        width=1180,
        height=380,
    )


def _served_table(served: pd.DataFrame) -> str:
    """The served score at 20, 40, 60 and 80% of the course: AUC, gain, bands."""
    served = served.set_index("course_week_number")
    shares = served["course_progress_share"].astype(float)
    picked: list = []
    for target in (0.2, 0.4, 0.6, 0.8):
        week = (shares - target).abs().idxmin()
        if week not in picked:
            picked.append(week)
    rows = served.loc[picked].reset_index()
    rows["best_baseline"] = rows["best_baseline_name"].map(
        lambda name: SCORE_NAMES.get(name, "").replace(" (baseline)", "")
    )
    spec = [
        ("course_week_number", "Course week", _whole),
        ("course_progress_share", "Share of the course", percent),
        ("positives", "With the outcome", _whole),
        ("roc_auc", "ROC AUC", _three_decimals),
        ("roc_auc_gain", "Gain over the best baseline", _signed_three_decimals),
        ("best_baseline", "Best baseline that week", None),
        ("high_or_medium_recall", "Caught by high + medium", percent),
        ("high_or_medium_precision", "Precision of high + medium", percent),
        ("high_band_recall", "Caught by high", percent),
        ("brier_score", "Brier score", _three_decimals),
    ]
    return '<h3 class="table-title">The risk score served, through the course</h3>' + table(
        rows, spec, table_id="evaluation-table"
    )


def _whole(value: object) -> str:
    return f"{as_float(value):.0f}"


def _three_decimals(value: object) -> str:
    return f"{as_float(value):.3f}"


def _signed_three_decimals(value: object) -> str:
    return f"{as_float(value):+.3f}"
