"""Sections about dropout risk: the scores and segments of current learners, whom to
contact first, and how good the scores have been (the backtest)."""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from moodle_analytics.dashboard import charts
from moodle_analytics.dashboard.charts import Axis, Series, number, percent
from moodle_analytics.dashboard.sections.parts import (
    RISK_COLOURS,
    Column,
    Unavailable,
    empty,
    figure,
    figures,
    section,
    table,
)
from moodle_analytics.dashboard.sections.values import as_float, as_text, course_label, xy
from moodle_analytics.dashboard.warehouse import Warehouse

RISK_BANDS = ("high", "medium", "low")
SEGMENTS = ("struggling", "doing_ok", "doing_well")
SEGMENT_COLOURS = {"struggling": "#c0392b", "doing_ok": "#e69f00", "doing_well": "#2e8b57"}
SEGMENT_NAMES = {"struggling": "Struggling", "doing_ok": "Doing OK", "doing_well": "Doing well"}
QUEUE_PER_COURSE = 5


def _counts_by_course(frame: pd.DataFrame, category: str, categories: list[str]) -> pd.DataFrame:
    """Rows per course (frame's course_label) and category, one column per category."""
    counts = frame.groupby(["course_label", category]).size().unstack(fill_value=0)
    return counts.reindex(columns=categories, fill_value=0)


def _with_course_labels(frame: pd.DataFrame) -> pd.DataFrame:
    names = [
        frame.get(column, pd.Series([None] * len(frame)))
        for column in ("course_short_name", "course_name")
    ]
    return frame.assign(
        course_label=[course_label(short, name) for short, name in zip(*names, strict=True)]
    )


@section("risk", needs=["fct_learner_risk_scores", "dim_courses"])
def risk(wh: Warehouse) -> str:
    """Dropout risk and segments

    The latest risk score of every learner in a current course: how likely they are to drop
    out, and which segment they fall in.
    """
    columns = set(wh.columns("fct_learner_risk_scores"))
    latest_filter = "where r.is_latest_week" if "is_latest_week" in columns else ""
    scores = wh.frame(
        f"""
        select r.dropout_probability, r.risk_band, r.segment, r.course_id,
               c.course_short_name, c.course_name, c.course_status
        from {{r}} as r
        inner join {{c}} as c on r.course_id = c.course_id
        {latest_filter}
        """,
        r="fct_learner_risk_scores",
        c="dim_courses",
    )
    # Learners of current courses are the ones staff can still reach; finished courses'
    # scores only show when nothing is running (e.g. a site read between terms).
    current = scores["course_status"] != "finished"
    if current.any():
        scores = scores[current]
    if scores.empty:
        return empty("No risk scores yet (no current course week).")
    return figures(_risk_histogram(scores), _band_counts(scores), _segments_by_course(scores))


@figure("risk-histogram")
def _risk_histogram(scores: pd.DataFrame) -> str:
    """How dropout risk is spread

    Learners by their latest dropout probability, in 5-point bins, coloured by risk band.
    """
    edges = [i / 20 for i in range(21)]
    probabilities = scores["dropout_probability"].astype(float).clip(0, 1).to_numpy()
    counts = [int(c) for c in np.histogram(probabilities, bins=edges)[0]]
    bins = np.clip(np.digitize(probabilities, edges[1:-1]), 0, len(edges) - 2)
    band_of_bin = []
    for index in range(len(edges) - 1):
        in_bin = scores["risk_band"][bins == index]
        band = in_bin.mode().iloc[0] if len(in_bin) else ""
        band_of_bin.append(RISK_COLOURS.get(band, "#cbd2d9"))
    present = [band for band in RISK_BANDS if band in set(scores["risk_band"])]
    return charts.histogram(
        counts,
        edges,
        Axis("Dropout probability (%)", format=percent, ticks=[0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        Axis("Learners"),
        colours=band_of_bin,
        legend=[(f"{band} risk", RISK_COLOURS[band]) for band in present],
        width=580,
    )


@figure("risk-bands")
def _band_counts(scores: pd.DataFrame) -> str:
    """Learners per risk band

    Number of learners in current courses in each band of their latest score.
    """
    counts = scores["risk_band"].value_counts()
    return charts.bar_chart(
        [(f"{band} risk", float(counts.get(band, 0))) for band in RISK_BANDS],
        Axis("Learners"),
        colours=[RISK_COLOURS[band] for band in RISK_BANDS],
        label_width=120,
        bar_height=30,
        width=580,
    )


@figure("segments-by-course", wide=True)
def _segments_by_course(scores: pd.DataFrame) -> str:
    """Segments per course

    Share of each course's learners doing well, doing OK or struggling, courses with the
    most struggling learners first.
    """
    per_course = _counts_by_course(_with_course_labels(scores), "segment", list(SEGMENTS))
    per_course = per_course.assign(share=lambda f: f["struggling"] / f.sum(axis=1)).sort_values(
        "share", ascending=False
    )
    return charts.stacked_bars(
        [(course, [float(row[s]) for s in SEGMENTS]) for course, row in per_course.iterrows()],
        [(SEGMENT_NAMES[s], SEGMENT_COLOURS[s]) for s in SEGMENTS],
        Axis("Share of the course's learners (%)", format=percent),
        width=1180,
    )


@section("intervention-queue", needs=["fct_intervention_queue"])
def intervention_queue(wh: Warehouse) -> str:
    """Intervention queue

    Whom staff should contact first, course by course, and why: learners of running courses
    whose latest risk score is high or medium.
    """
    queue = wh.frame("select * from {q}", q="fct_intervention_queue")
    if queue.empty:
        return empty("Nobody in the queue: no learner needs contacting.")
    queue, rank = _ranked_learners(queue)
    body = _queue_by_course(queue) if "risk_band" in queue.columns else ""
    # The first of each course on this page: on a teacher's page the course's ranks
    # may skip the learners of groups the teacher does not teach.
    first = queue[queue.groupby("course_label").cumcount() < QUEUE_PER_COURSE]
    spec: list[Column] = [
        ("course_label", "Course", None),
        (rank, "Rank", number),
        ("who", "Learner", None),
    ]
    optional: list[Column] = [
        ("dropout_probability", "Risk", percent),
        ("days_inactive", "Days inactive", number),
        ("why", "Why", None),
        ("suggested_action", "Suggested action", None),
        ("next_due_activity_name", "Next due", None),
    ]
    spec += [column for column in optional if column[0] in first.columns]
    return body + (
        f'<p class="note">The first {QUEUE_PER_COURSE} learners to contact in each course '
        f"({len(first)} of the {number(len(queue))} queued). Learners appear under a "
        "pseudonymous id unless the warehouse was built with include_pii; the full queue, "
        "one row per teacher, is the table fct_intervention_queue.</p>"
        + table(first, spec, table_id="queue-table", bars={"dropout_probability": 1.0})
    )


def _ranked_learners(queue: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Each queued learner once, in rank order within the course, with who and why;
    returns the frame and its rank column."""
    # The queue has a row per teacher of the course; the page needs each learner once.
    if "learner_course_id" in queue.columns:
        queue = queue.drop_duplicates("learner_course_id")
    queue = _with_course_labels(queue)
    rank = next((c for c in ("rank_in_course", "priority_rank") if c in queue.columns), None)
    if rank:
        queue = queue.sort_values(["course_label", rank])
    else:
        queue = queue.sort_values(["course_label", "dropout_probability"], ascending=[True, False])
        queue["rank_in_course"] = queue.groupby("course_label").cumcount() + 1
        rank = "rank_in_course"
    records = queue.to_dict("records")
    queue["who"] = [
        as_text(row.get("full_name")) or as_text(row.get("learner_id"))[:10] for row in records
    ]
    queue["why"] = [
        [reason for reason in (as_text(row.get(f"reason_{i}")) for i in (1, 2, 3)) if reason]
        for row in records
    ]
    return queue, rank


@figure("queue-by-course", wide=True)
def _queue_by_course(queue: pd.DataFrame) -> str:
    """Learners to contact, per course

    Queued learners of each running course by risk band.
    """
    bands = [band for band in RISK_BANDS if band in set(queue["risk_band"])]
    counts = _counts_by_course(queue, "risk_band", bands)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index]
    return charts.stacked_bars(
        [(course, [float(row[band]) for band in bands]) for course, row in counts.iterrows()],
        [(f"{band} risk", RISK_COLOURS[band]) for band in bands],
        Axis("Learners to contact"),
        normalise=False,
        width=1180,
    )


@section("backtest", needs=["rpt_risk_backtest"])
def backtest(wh: Warehouse) -> str:
    """Risk scores against the site's own dropout label

    A backtest: scores computed as of each course week with only what was knowable then,
    checked against the project's dropout label of finished courses (dropout_definition; by
    default no activity in the last quarter of the course). The scores use activity too, so
    this flatters them: the section above measures them against the school's own outcomes.
    AUC 0.5 is guessing, 1.0 is perfect.
    """
    frame = _auc_by_week(wh)
    if frame is None:
        raise Unavailable(["rpt_risk_backtest.course_week_number / roc_auc"])
    if frame.empty:
        return empty("No finished course to backtest against yet.")
    comparison = _model_comparison(wh) if wh.has("rpt_risk_model_comparison") else ""
    return _labelled_dropouts(wh) + _auc_chart(frame) + comparison


def _labelled_dropouts(wh: Warehouse) -> str:
    """How many learner-courses the label calls dropouts (the positives of every AUC)."""
    columns = wh.columns("rpt_risk_backtest")
    if "dropouts" not in columns:
        return ""
    cohort_filter = "and cohort_name = 'all'" if "cohort_name" in columns else ""
    dropouts = as_float(
        wh.scalar(
            f"select max(dropouts) from {{b}} where course_week_number is not null {cohort_filter}",
            b="rpt_risk_backtest",
        )
    )
    if math.isnan(dropouts):
        return ""
    return f'<p class="note">{dropouts:,.0f} learner-courses labelled dropouts.</p>'


def _auc_by_week(wh: Warehouse) -> pd.DataFrame | None:
    """ROC AUC per way of scoring and course week; None if the table lacks those columns."""
    columns = wh.columns("rpt_risk_backtest")
    auc_column = next((c for c in ("roc_auc", "auc") if c in columns), None)
    if auc_column is None or "course_week_number" not in columns:
        return None
    # One line per way of scoring (the model, and the rule-based baseline it must beat);
    # the backtest also has a row per cohort, summed up in the cohort "all".
    method_column = next((c for c in ("score_method", "model_name") if c in columns), None)
    cohort_filter = "and cohort_name = 'all'" if "cohort_name" in columns else ""
    return wh.frame(
        f"""
        select {method_column if method_column else "'model'"} as method,
               course_week_number, {auc_column} as auc
        from {{b}}
        where course_week_number is not null {cohort_filter}
        order by course_week_number
        """,
        b="rpt_risk_backtest",
    )


@figure("backtest-auc", wide=True)
def _auc_chart(frame: pd.DataFrame) -> str:
    """AUC by course week

    How well the week's scores rank the learners labelled dropouts above those who were not
    (ROC AUC, higher is better).
    """
    names = {
        "model": "Risk model",
        "starter": "Starter score",
        "rule_based": "Rule-based score (small course weeks)",
    }
    series = [
        Series(
            names.get(str(method), str(method)),
            xy(rows, "course_week_number", "auc"),
            colour=charts.PALETTE[0] if method == "model" else charts.PALETTE[6],
            dashed=method != "model",
        )
        for method, rows in frame.groupby("method", sort=True)
    ]
    return charts.line_chart(
        series,
        Axis("Course week the score is as of"),
        Axis(
            "ROC AUC",
            format=lambda v: f"{v:.2f}",
            domain=(0.4, 1.0),
            ticks=[0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        ),
        reference=(0.5, "0.5 = guessing"),
        legend=len(series) > 1,
        width=1180,
        height=340,
    )


def _model_comparison(wh: Warehouse) -> str:
    frame = wh.frame("select * from {m}", m="rpt_risk_model_comparison")
    if "course_week_number" in frame.columns:
        frame = frame[frame["course_week_number"].isna()]  # the all-weeks row of each model
    if frame.empty:
        return ""
    labels = {
        "model_name": ("Model", None),
        "is_chosen": ("Chosen", None),
        "mean_early_roc_auc": ("AUC, early weeks", lambda v: f"{as_float(v):.3f}"),
        "roc_auc": ("ROC AUC", lambda v: f"{as_float(v):.3f}"),
        "pr_auc": ("PR AUC", lambda v: f"{as_float(v):.3f}"),
        "top_decile_precision": ("Precision, top 10%", percent),
        "brier_score": ("Brier score", lambda v: f"{as_float(v):.3f}"),
    }
    spec = [(key, label, fmt) for key, (label, fmt) in labels.items() if key in frame.columns]
    reason = ""
    if "is_chosen" in frame.columns:
        chosen = frame[frame["is_chosen"].fillna(False).astype(bool)]
        if "choice_reason" in frame.columns and len(chosen):
            reason = f'<p class="note">{escape(as_text(chosen["choice_reason"].iloc[0]))}</p>'
        frame = frame.assign(
            is_chosen=frame["is_chosen"].map(
                lambda value: "yes" if pd.notna(value) and bool(value) else ""
            )
        )
    return (
        '<h3 class="table-title">Models compared (cross-validated, all weeks)</h3>'
        + table(frame, spec, table_id="model-table")
        + reason
    )
