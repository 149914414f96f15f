"""The sections of the dashboard, each built from the marts it names.

A section whose tables are not in the warehouse says so on the page (which
tables, and that `dbt build` makes them) instead of showing anything else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from moodle_analytics.dashboard import charts
from moodle_analytics.dashboard.charts import Axis, Band, Series, number, percent
from moodle_analytics.dashboard.warehouse import Warehouse

RISK_COLOURS = {"high": "#c0392b", "medium": "#e69f00", "low": "#4a90c2"}
SEGMENT_COLOURS = {"struggling": "#c0392b", "doing_ok": "#e69f00", "doing_well": "#2e8b57"}
SEGMENT_NAMES = {"struggling": "Struggling", "doing_ok": "Doing OK", "doing_well": "Doing well"}
STATUS_NAMES = {
    "running": "running",
    "finished": "finished",
    "upcoming": "upcoming",
    "open_ended": "open-ended",
    "self_paced": "self-paced",
}
SMALL_MULTIPLES_LIMIT = 24
QUEUE_PER_COURSE = 5


@dataclass
class Section:
    """One titled part of the page."""

    id: str
    title: str
    lead: str
    body: str = ""
    missing: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return not self.missing


def figure(chart_id: str, title: str, subtitle: str, svg: str, wide: bool = False) -> str:
    """A chart with its title and a line saying what it shows and in which unit."""
    css = "figure wide" if wide else "figure"
    return (
        f'<figure class="{css}" data-chart="{chart_id}"><figcaption><h3>{escape(title)}</h3>'
        f"<p>{escape(subtitle)}</p></figcaption>{svg}</figure>"
    )


def not_available(section: Section) -> Section:
    names = ", ".join(f"<code>{escape(name)}</code>" for name in section.missing)
    section.body = (
        '<p class="missing">Not available: the warehouse has no '
        f"{names}. Run <code>dbt build</code> (these models build on DuckDB) and generate "
        "the page again.</p>"
    )
    return section


def _float(value: object) -> float:
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return result


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NaT:
        return ""
    return str(value)


def table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, Callable[[object], str] | None]],
    *,
    table_id: str,
    bars: dict[str, float] | None = None,
    caption: str = "",
) -> str:
    """An HTML table (sortable by clicking a header); `bars` draws a data bar under the
    number of the named columns, scaled to the given maximum."""
    bars = bars or {}
    head = "".join(
        f'<th scope="col" data-kind="{"text" if fmt is None else "number"}">{escape(label)}</th>'
        for _, label, fmt in columns
    )
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for key, _, fmt in columns:
            value = record.get(key)
            if fmt is None and isinstance(value, list | tuple):
                items = "".join(f"<li>{escape(_text(item))}</li>" for item in value)
                cells.append(f'<td><ul class="reasons">{items}</ul></td>')
                continue
            if fmt is None:
                cells.append(f"<td>{escape(_text(value))}</td>")
                continue
            number_value = _float(value)
            shown = fmt(number_value) if not math.isnan(number_value) else "–"
            sort_key = "" if math.isnan(number_value) else f"{number_value:.6f}"
            bar = ""
            if key in bars and not math.isnan(number_value) and bars[key] > 0:
                width = max(0.0, min(1.0, number_value / bars[key])) * 100
                bar = f'<span class="bar" style="width:{width:.0f}%"></span>'
            cells.append(
                f'<td class="num" data-sort="{sort_key}"><span class="cell">{bar}'
                f'<span class="value">{escape(shown)}</span></span></td>'
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table class="data sortable" id="{table_id}">{caption_html}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _course_label(short_name: object, name: object) -> str:
    return _text(short_name) or _text(name)


# ---------------------------------------------------------------- overview


def overview(wh: Warehouse) -> tuple[Section, dict[str, str]]:
    """Key figures, and facts for the page header (as-of moment)."""
    section = Section(
        "overview",
        "At a glance",
        "The site as of the analysis moment: courses, learners and how many were active "
        "in the latest complete week.",
    )
    section.missing = wh.missing("dim_courses", "fct_learner_courses", "fct_learner_weeks")
    facts: dict[str, str] = {}
    if section.missing:
        return not_available(section), facts
    courses = wh.frame("select course_status, learners from {c}", c="dim_courses")
    learner_courses = wh.frame(
        """
        select
            count(*) as learner_courses,
            count(distinct f.learner_id) as learners,
            avg(case when f.is_outcome_known then cast(f.is_dropout as integer) end)
                as dropout_rate,
            -- Completion only means something in courses that track it.
            avg(case when f.is_outcome_known and c.has_completion_tracking
                     then cast(f.is_completed as integer) end) as completion_rate
        from {f} as f
        inner join {c} as c on f.course_id = c.course_id
        """,
        f="fct_learner_courses",
        c="dim_courses",
    ).iloc[0]
    latest = wh.frame(
        """
        with weeks as (
            select calendar_week_starting, count(*) as followed,
                   sum(cast(is_active as integer)) as active
            from {w}
            where is_complete_week
            group by calendar_week_starting
        )
        select * from weeks order by calendar_week_starting desc limit 1
        """,
        w="fct_learner_weeks",
    )
    # The page reads tables only (the exposure's rule): the newest learner activity in the
    # marts stands for the moment the data is as of.
    facts["as_of"] = _text(
        wh.scalar("select max(last_activity_at) from {f}", f="fct_learner_courses")
    )
    running = int((courses["course_status"].isin(["running", "open_ended", "self_paced"])).sum())
    cards = [
        ("Courses", number(len(courses)), f"{running} running or open"),
        (
            "Learners",
            number(learner_courses["learners"]),
            f"{number(learner_courses['learner_courses'])} learner-course enrolments",
        ),
        (
            "Dropout rate",
            percent(_float(learner_courses["dropout_rate"])),
            "of learners in courses whose outcome is known",
        ),
        (
            "Completion rate",
            percent(_float(learner_courses["completion_rate"])),
            "Moodle course completion where tracked, outcome known",
        ),
    ]
    if len(latest):
        week = latest.iloc[0]
        share = week["active"] / week["followed"] if week["followed"] else math.nan
        cards.append(
            (
                "Active last week",
                percent(share),
                f"{number(week['active'])} of {number(week['followed'])} learners followed, "
                f"week of {pd.Timestamp(week['calendar_week_starting']):%d %b %Y}",
            )
        )
    section.body = (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="card-label">{escape(label)}</div>'
            f'<div class="card-value">{escape(value)}</div>'
            f'<div class="card-note">{escape(note)}</div></div>'
            for label, value, note in cards
        )
        + "</div>"
    )
    return section, facts


# ---------------------------------------------------------------- weekly active learners


def weekly_active(wh: Warehouse) -> Section:
    section = Section(
        "weekly-active",
        "Weekly active learners per course",
        "Learners with at least one activity in each course week (blue line) against the "
        "learners enrolled and followed that week (grey area). A widening gap is learners "
        "going quiet.",
    )
    section.missing = wh.missing("fct_course_weeks", "dim_courses")
    if section.missing:
        return not_available(section)
    weeks = wh.frame(
        """
        select c.course_id, c.course_short_name, c.course_name, c.course_status, c.starts_at,
               w.course_week_number, w.learners_followed, w.learners_active, w.active_share,
               w.is_complete_week
        from {w} as w
        inner join {c} as c on w.course_id = c.course_id
        order by c.starts_at desc nulls last, c.course_id, w.course_week_number
        """,
        w="fct_course_weeks",
        c="dim_courses",
    )
    if weeks.empty:
        section.body = '<p class="missing">No course weeks yet.</p>'
        return section
    order = {"running": 0, "open_ended": 0, "self_paced": 1, "upcoming": 2, "finished": 3}
    courses = (
        weeks[["course_id", "course_short_name", "course_name", "course_status", "starts_at"]]
        .drop_duplicates("course_id")
        .assign(rank=lambda f: f["course_status"].map(order).fillna(4))
        .sort_values(["rank", "starts_at", "course_short_name"], ascending=[True, False, True])
    )
    shown = courses.head(SMALL_MULTIPLES_LIMIT)
    panels = []
    for course in shown.itertuples():
        course_weeks = weeks[weeks["course_id"] == course.course_id]
        # The running week is left out: its counts are still growing and would look like a drop.
        rows = course_weeks[course_weeks["is_complete_week"]].sort_values("course_week_number")
        if rows.empty:
            continue
        x_max = max(float(rows["course_week_number"].max()), 2.0)
        svg = charts.line_chart(
            [
                Series(
                    "Active learners",
                    list(
                        zip(
                            rows["course_week_number"].astype(float),
                            rows["learners_active"].astype(float),
                            strict=True,
                        )
                    ),
                    colour=charts.PALETTE[0],
                    width=2.2,
                )
            ],
            Axis("Course week", domain=(1, x_max)),
            Axis("Learners"),
            bands=[
                Band(
                    "Learners followed",
                    [
                        (float(w), 0.0, float(f))
                        for w, f in zip(
                            rows["course_week_number"], rows["learners_followed"], strict=True
                        )
                    ],
                )
            ],
            width=380,
            height=200,
            legend=False,
            compact=True,
        )
        last = rows.tail(1)
        note = (
            f"week {int(last['course_week_number'].iloc[0])}: "
            f"{percent(_float(last['active_share'].iloc[0]))} active"
        )
        if len(course_weeks) > len(rows):
            note += f"; week {int(course_weeks['course_week_number'].max())} in progress"
        panels.append(
            f'<figure class="panel" data-chart="weekly-active-{course.course_id}">'
            f"<figcaption><h3>{escape(_course_label(course.course_short_name, course.course_name))}"
            f"</h3><p>{escape(_text(course.course_name))} · "
            f"{escape(STATUS_NAMES.get(course.course_status, _text(course.course_status)))} · "
            f"{escape(note)}</p></figcaption>{svg}</figure>"
        )
    legend = (
        '<p class="legend"><span class="key line"></span>Active learners '
        '<span class="key area"></span>Learners followed (enrolled, week counted)</p>'
    )
    more = (
        f'<p class="note">Showing {len(shown)} of {len(courses)} courses: running ones first, '
        "then the most recent. The heat map below has them all.</p>"
        if len(courses) > len(shown)
        else ""
    )
    grid = f'<div class="multiples">{"".join(panels)}</div>'
    complete = weeks[weeks["is_complete_week"]]
    section.body = legend + grid + more + _activity_heatmap(complete, courses)
    return section


def _activity_heatmap(weeks: pd.DataFrame, courses: pd.DataFrame) -> str:
    last_week = int(weeks["course_week_number"].max())
    columns = [str(week) for week in range(1, last_week + 1)]
    values, labels = [], []
    for course in courses.itertuples():
        rows = weeks[weeks["course_id"] == course.course_id]
        by_week = dict(zip(rows["course_week_number"], rows["active_share"], strict=True))
        values.append([_float(by_week.get(week, math.nan)) for week in range(1, last_week + 1)])
        labels.append(_course_label(course.course_short_name, course.course_name))
    finite = [v for row in values for v in row if math.isfinite(v)]
    low = math.floor(min(finite, default=0.0) * 10) / 10
    svg = charts.heatmap(
        labels,
        columns,
        values,
        legend_label="Share of followed learners active",
        column_title="Course week",
        domain=(low, 1.0),
        width=1180,
    )
    return figure(
        "activity-heatmap",
        "Share of learners active, every course and week",
        "Each cell is one complete course week: the darker, the larger the share of followed "
        "learners who did anything that week. Blank: no such week (yet).",
        svg,
        wide=True,
    )


# ---------------------------------------------------------------- engagement trend


def engagement_trend(wh: Warehouse) -> Section:
    section = Section(
        "engagement-trend",
        "Engagement trend",
        "How engaged learners were week by week across the whole site (complete weeks only), "
        "and how this term's courses compare with the typical course so far.",
    )
    section.missing = wh.missing("fct_learner_weeks", "fct_course_weeks", "dim_courses")
    if section.missing:
        return not_available(section)
    by_calendar = wh.frame(
        """
        select calendar_week_starting,
               count(*) as followed,
               sum(cast(is_active as integer)) as active,
               avg(minutes_on_task) as minutes
        from {w}
        where is_complete_week
        group by calendar_week_starting
        order by calendar_week_starting
        """,
        w="fct_learner_weeks",
    )
    if by_calendar.empty:
        section.body = '<p class="missing">No complete week yet.</p>'
        return section
    dates = pd.to_datetime(by_calendar["calendar_week_starting"])
    positions = [float(p) for p in range(len(dates))]
    step = max(1, math.ceil(len(dates) / 7))
    x_axis = Axis(
        "Calendar week (starting Monday)",
        ticks=positions[::step],
        tick_labels={p: f"{dates.iloc[int(p)]:%b %Y}" for p in positions},
    )
    active_chart = charts.line_chart(
        [
            Series(
                "Active learners",
                list(zip(positions, by_calendar["active"].astype(float), strict=True)),
                markers=len(positions) <= 40,
            )
        ],
        x_axis,
        Axis("Learners"),
        bands=[
            Band(
                "Learners followed",
                [
                    (p, 0.0, float(f))
                    for p, f in zip(positions, by_calendar["followed"], strict=True)
                ],
            )
        ],
        width=580,
        height=300,
    )
    # Minutes per learner only where enough learners are followed to mean something.
    enough = max(10.0, 0.2 * float(by_calendar["followed"].median()))
    minutes = [
        (p, _float(m) if f >= enough else None)
        for p, m, f in zip(positions, by_calendar["minutes"], by_calendar["followed"], strict=True)
    ]
    minutes_chart = charts.line_chart(
        [
            Series(
                "Minutes on task per learner",
                minutes,
                colour=charts.PALETTE[2],
                markers=len(positions) <= 40,
            )
        ],
        x_axis,
        Axis("Minutes per learner per week"),
        legend=False,
        width=580,
        height=300,
    )
    section.body = (
        '<div class="figures">'
        + figure(
            "engagement-active-learners",
            "Learners active each week, whole site",
            "Learners with any activity (line) among those followed that week (grey "
            "area), all courses together.",
            active_chart,
        )
        + figure(
            "engagement-minutes",
            "Time on task per learner",
            "Average minutes on task per followed learner per week; weeks with fewer than "
            f"{enough:.0f} learners followed are left out.",
            minutes_chart,
        )
        + _term_against_typical(wh)
        + "</div>"
    )
    return section


def _term_against_typical(wh: Warehouse) -> str:
    """Running courses' weekly active share against the middle half of finished courses."""
    weeks = wh.frame(
        """
        select c.course_id, coalesce(c.course_short_name, c.course_name) as course_label,
               c.course_status, w.course_week_number, w.active_share
        from {w} as w
        inner join {c} as c on w.course_id = c.course_id
        where w.is_complete_week and w.active_share is not null
        order by w.course_week_number
        """,
        w="fct_course_weeks",
        c="dim_courses",
    )
    finished = weeks[weeks["course_status"] == "finished"]
    running = weeks[weeks["course_status"] == "running"]
    if finished.empty and running.empty:
        return ""
    quartiles = (
        finished.groupby("course_week_number")["active_share"].quantile([0.25, 0.5, 0.75]).unstack()
    )
    series = []
    if len(quartiles):
        series.append(
            Series(
                "Finished courses, median",
                [(float(w), float(q[0.5])) for w, q in quartiles.iterrows()],
                colour="#52606d",
                width=3,
                markers=False,
            )
        )
    palette = iter(charts.PALETTE)
    for label, rows in running.groupby("course_label", sort=True):
        series.append(
            Series(
                str(label),
                list(
                    zip(
                        rows["course_week_number"].astype(float),
                        rows["active_share"].astype(float),
                        strict=True,
                    )
                ),
                colour=next(palette, None),
                width=2,
            )
        )
    bands = (
        [
            Band(
                "Finished courses, middle half",
                [(float(w), float(q[0.25]), float(q[0.75])) for w, q in quartiles.iterrows()],
            )
        ]
        if len(quartiles)
        else []
    )
    chart = charts.line_chart(
        series,
        Axis("Course week"),
        Axis("Learners active (%)", format=percent, domain=(0, 1)),
        bands=bands,
        width=1180,
        height=360,
    )
    return figure(
        "engagement-term-vs-typical",
        "This term's courses against the typical course",
        "Share of followed learners active by course week: each running course (coloured "
        "lines) against the median finished course (grey line) and the middle half of "
        "finished courses (grey band).",
        chart,
        wide=True,
    )


# ---------------------------------------------------------------- risk and segments


def risk(wh: Warehouse) -> Section:
    section = Section(
        "risk",
        "Dropout risk and segments",
        "The latest risk score of every learner in a current course: how likely they are to "
        "drop out, and which segment they fall in.",
    )
    section.missing = wh.missing("fct_learner_risk_scores", "dim_courses")
    if section.missing:
        return not_available(section)
    columns = set(wh.columns("fct_learner_risk_scores"))
    latest_filter = "where is_latest_week" if "is_latest_week" in columns else ""
    scores = wh.frame(
        f"""
        select r.dropout_probability, r.risk_band, r.segment, r.course_id,
               c.course_short_name, c.course_name, c.course_status
        from {{r}} as r
        inner join {{c}} as c on r.course_id = c.course_id
        {latest_filter.replace("where ", "where r.")}
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
        section.body = '<p class="missing">No risk scores yet (no current course week).</p>'
        return section
    edges = [i / 20 for i in range(21)]
    probabilities = scores["dropout_probability"].astype(float).clip(0, 1).to_numpy()
    counts = [int(c) for c in np.histogram(probabilities, bins=edges)[0]]
    bins = np.clip(np.digitize(probabilities, edges[1:-1]), 0, len(edges) - 2)
    band_of_bin = []
    for index in range(len(edges) - 1):
        in_bin = scores["risk_band"][bins == index]
        band = in_bin.mode().iloc[0] if len(in_bin) else ""
        band_of_bin.append(RISK_COLOURS.get(band, "#cbd2d9"))
    bands_present = [b for b in ("high", "medium", "low") if b in set(scores["risk_band"])]
    histogram = charts.histogram(
        counts,
        edges,
        Axis("Dropout probability (%)", format=percent, ticks=[0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        Axis("Learners"),
        colours=band_of_bin,
        legend=[(f"{band} risk", RISK_COLOURS[band]) for band in bands_present],
        width=580,
    )
    band_counts = scores["risk_band"].value_counts()
    band_chart = charts.bar_chart(
        [(f"{band} risk", float(band_counts.get(band, 0))) for band in ("high", "medium", "low")],
        Axis("Learners"),
        colours=[RISK_COLOURS[band] for band in ("high", "medium", "low")],
        label_width=120,
        bar_height=30,
        width=580,
    )
    segments = ("struggling", "doing_ok", "doing_well")
    per_course = (
        scores.assign(
            course=[
                _course_label(s, n)
                for s, n in zip(scores["course_short_name"], scores["course_name"], strict=True)
            ]
        )
        .groupby(["course", "segment"])
        .size()
        .unstack(fill_value=0)
    )
    per_course = per_course.reindex(columns=list(segments), fill_value=0)
    per_course = per_course.assign(share=lambda f: f["struggling"] / f.sum(axis=1)).sort_values(
        "share", ascending=False
    )
    segment_chart = charts.stacked_bars(
        [(course, [float(row[s]) for s in segments]) for course, row in per_course.iterrows()],
        [(SEGMENT_NAMES[s], SEGMENT_COLOURS[s]) for s in segments],
        Axis("Share of the course's learners (%)", format=percent),
        width=1180,
    )
    section.body = (
        '<div class="figures">'
        + figure(
            "risk-histogram",
            "How dropout risk is spread",
            "Learners by their latest dropout probability, in 5-point bins, coloured by risk band.",
            histogram,
        )
        + figure(
            "risk-bands",
            "Learners per risk band",
            "Number of learners in current courses in each band of their latest score.",
            band_chart,
        )
        + figure(
            "segments-by-course",
            "Segments per course",
            "Share of each course's learners doing well, doing OK or struggling, courses "
            "with the most struggling learners first.",
            segment_chart,
            wide=True,
        )
        + "</div>"
    )
    return section


# ---------------------------------------------------------------- intervention queue


def intervention_queue(wh: Warehouse) -> Section:
    section = Section(
        "intervention-queue",
        "Intervention queue",
        "Whom staff should contact first, course by course, and why: learners of running "
        "courses whose latest risk score is high or medium.",
    )
    section.missing = wh.missing("fct_intervention_queue")
    if section.missing:
        return not_available(section)
    queue = wh.frame("select * from {q}", q="fct_intervention_queue")
    if queue.empty:
        section.body = '<p class="missing">Nobody in the queue: no learner needs contacting.</p>'
        return section
    # The queue has a row per teacher of the course; the page needs each learner once.
    if "learner_course_id" in queue.columns:
        queue = queue.drop_duplicates("learner_course_id")
    queue["course_label"] = [
        _course_label(short, name)
        for short, name in zip(
            queue.get("course_short_name", pd.Series([None] * len(queue))),
            queue.get("course_name", pd.Series([None] * len(queue))),
            strict=True,
        )
    ]
    rank = next((c for c in ("rank_in_course", "priority_rank") if c in queue.columns), None)
    if rank:
        queue = queue.sort_values(["course_label", rank])
    else:
        queue = queue.sort_values(["course_label", "dropout_probability"], ascending=[True, False])
        queue["rank_in_course"] = queue.groupby("course_label").cumcount() + 1
        rank = "rank_in_course"
    queue["who"] = [
        _text(row.get("full_name")) or _text(row.get("learner_id"))[:10]
        for row in queue.to_dict("records")
    ]
    queue["why"] = [
        [reason for reason in (_text(row.get(f"reason_{i}")) for i in (1, 2, 3)) if reason]
        for row in queue.to_dict("records")
    ]
    body = ""
    if "risk_band" in queue.columns:
        bands = [band for band in ("high", "medium", "low") if band in set(queue["risk_band"])]
        counts = queue.groupby(["course_label", "risk_band"]).size().unstack(fill_value=0)
        counts = counts.reindex(columns=bands, fill_value=0)
        counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index]
        chart = charts.stacked_bars(
            [(course, [float(row[band]) for band in bands]) for course, row in counts.iterrows()],
            [(f"{band} risk", RISK_COLOURS[band]) for band in bands],
            Axis("Learners to contact"),
            normalise=False,
            width=1180,
        )
        body += figure(
            "queue-by-course",
            "Learners to contact, per course",
            "Queued learners of each running course by risk band.",
            chart,
            wide=True,
        )
    first = queue[queue[rank] <= QUEUE_PER_COURSE]
    spec: list[tuple[str, str, Callable[[object], str] | None]] = [
        ("course_label", "Course", None),
        (rank, "Rank", number),
        ("who", "Learner", None),
    ]
    optional: list[tuple[str, str, Callable[[object], str] | None]] = [
        ("dropout_probability", "Risk", percent),
        ("days_inactive", "Days inactive", number),
        ("why", "Why", None),
        ("suggested_action", "Suggested action", None),
        ("next_due_activity_name", "Next due", None),
    ]
    spec += [column for column in optional if column[0] in first.columns]
    body += (
        f'<p class="note">The first {QUEUE_PER_COURSE} learners to contact in each course '
        f"({len(first)} of the {number(len(queue))} queued). Learners appear under a "
        "pseudonymous id unless the warehouse was built with include_pii; the full queue, "
        "one row per teacher, is the table fct_intervention_queue.</p>"
        + table(first, spec, table_id="queue-table", bars={"dropout_probability": 1.0})
    )
    section.body = body
    return section


# ---------------------------------------------------------------- course comparison


def course_comparison(wh: Warehouse) -> Section:
    section = Section(
        "course-comparison",
        "Course comparison",
        "Outcomes, engagement and punctuality of every course side by side. Rates of "
        "running courses are about learners whose outcome is already known.",
    )
    section.missing = wh.missing("rpt_course_comparison")
    if section.missing:
        return not_available(section)
    courses = wh.frame(
        """
        select *, coalesce(course_short_name, course_name) as course_label
        from {r}
        order by case when course_status = 'finished' then 0 else 1 end,
                 dropout_rate desc nulls last, course_label
        """,
        r="rpt_course_comparison",
    )
    finished = courses[courses["course_status"] == "finished"].dropna(
        subset=["dropout_rate", "weekly_active_share"]
    )
    charts_html = ""
    if len(finished):
        dropout_chart = charts.bar_chart(
            [(row.course_label, float(row.dropout_rate)) for row in finished.itertuples()],
            Axis("Dropout rate (% of learners)", format=percent, domain=(0, 1)),
            colours=charts.PALETTE[5],
            label_width=150,
            width=580,
        )
        scatter_chart = charts.scatter(
            [
                (float(r.weekly_active_share), float(r.dropout_rate), r.course_label)
                for r in finished.itertuples()
            ],
            Axis("Weekly active share (% of learners active per week)", format=percent),
            Axis("Dropout rate (%)", format=percent),
            width=580,
            height=420,
        )
        charts_html = (
            '<div class="figures">'
            + figure(
                "course-dropout",
                "Dropout rate of finished courses",
                "Share of each finished course's learners labelled dropouts, highest first.",
                dropout_chart,
            )
            + figure(
                "course-engagement-vs-dropout",
                "Engagement against dropout",
                "Each dot is a finished course: more weekly activity usually means fewer dropouts.",
                scatter_chart,
            )
            + "</div>"
        )
    courses["status"] = courses["course_status"].map(STATUS_NAMES).fillna(courses["course_status"])
    spec: list[tuple[str, str, Callable[[object], str] | None]] = [
        ("course_label", "Course", None),
        ("status", "Status", None),
        ("learners", "Learners", number),
        ("weekly_active_share", "Active / week", percent),
        ("minutes_per_learner_week", "Min / learner-week", number),
        ("on_time_rate", "On time", percent),
        ("completion_rate", "Completed", percent),
        ("dropout_rate", "Dropout", percent),
        ("average_grade_share", "Avg grade", percent),
    ]
    minutes_max = float(courses["minutes_per_learner_week"].max() or 1)
    section.body = charts_html + table(
        courses,
        spec,
        table_id="course-table",
        bars={
            "weekly_active_share": 1.0,
            "on_time_rate": 1.0,
            "completion_rate": 1.0,
            "dropout_rate": 1.0,
            "average_grade_share": 1.0,
            "minutes_per_learner_week": minutes_max,
        },
        caption="Click a column header to sort.",
    )
    return section


# ---------------------------------------------------------------- programme progress


def programme_progress(wh: Warehouse) -> Section:
    section = Section(
        "programme-progress",
        "Programme progress",
        "Learners of each programme by how many of its courses they have passed.",
    )
    section.missing = wh.missing("fct_programme_progress")
    if section.missing:
        return not_available(section)
    progress = wh.frame(
        """
        select programme_code, programme_name, programme_courses, courses_passed,
               is_certificate_earned
        from {p}
        """,
        p="fct_programme_progress",
    )
    if progress.empty:
        section.body = '<p class="missing">No programme learners yet.</p>'
        return section
    most = int(progress["programme_courses"].max())
    # From grey (none passed) to deep blue (the most courses any programme has).
    categories = [
        (
            f"{passed} passed",
            charts.sequential(0.25 + 0.75 * passed / most) if passed else "#d9dee3",
        )
        for passed in range(most + 1)
    ]
    rows, summary = [], []
    for (code, name), group in progress.groupby(["programme_code", "programme_name"], sort=True):
        size = int(group["programme_courses"].max())
        counts = [float((group["courses_passed"] == passed).sum()) for passed in range(most + 1)]
        rows.append((f"{name} ({code})", counts))
        summary.append(
            {
                "programme": f"{name} ({code})",
                "courses": size,
                "learners": len(group),
                "passed_any": float((group["courses_passed"] > 0).mean()),
                "passed_all": float((group["courses_passed"] >= size).mean()),
                "certificates": float(group["is_certificate_earned"].astype(bool).sum()),
            }
        )
    chart = charts.stacked_bars(
        rows,
        categories,
        Axis("Share of the programme's learners (%)", format=percent),
        label_width=300,
        width=1180,
    )
    section.body = figure(
        "programme-progress-chart",
        "Courses passed per programme",
        "Each bar is a programme's learners split by how many of its courses they have "
        "passed; n is the number of learners.",
        chart,
        wide=True,
    ) + table(
        pd.DataFrame(summary),
        [
            ("programme", "Programme", None),
            ("courses", "Courses", number),
            ("learners", "Learners", number),
            ("passed_any", "Passed at least one", percent),
            ("passed_all", "Passed all", percent),
            ("certificates", "Certificates earned", number),
        ],
        table_id="programme-table",
        bars={"passed_any": 1.0, "passed_all": 1.0},
    )
    return section


# ---------------------------------------------------------------- risk evaluation

EVALUATION_NAMES = {
    "risk_score": "Risk score served",
    "starter_score": "Starter score",
    "rule_based_score": "Rule-based score (baseline)",
    "minus_events_so_far": "Fewest events so far (baseline)",
    "minus_active_days_so_far": "Fewest active days so far (baseline)",
    "days_since_last_activity": "Most days since the last activity (baseline)",
}


def _evaluation_chart(frame: pd.DataFrame) -> str:
    """ROC AUC by week: the risk scores with their 95% intervals, the baselines dashed."""
    series, bands = [], []
    for index, (name, label) in enumerate(EVALUATION_NAMES.items()):
        rows = frame[frame["score_name"] == name].sort_values("course_week_number")
        weeks = rows["course_week_number"].astype(float).tolist()
        baseline = bool(rows["is_baseline"].any()) if len(rows) else True
        colour = charts.PALETTE[index % len(charts.PALETTE)]
        series.append(
            Series(
                label,
                list(zip(weeks, rows["roc_auc"].astype(float), strict=True)),
                colour=colour,
                dashed=baseline,
                width=1.5 if baseline else 2.5,
                markers=not baseline,
            )
        )
        if not baseline:
            spread = zip(weeks, rows["roc_auc_low"], rows["roc_auc_high"], strict=True)
            points = [(w, _float(low), _float(high)) for w, low, high in spread]
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


def _evaluation_table(frame: pd.DataFrame) -> str:
    """The served score at 20, 40, 60 and 80% of the course: AUC, gain, bands."""
    served = frame[frame["score_name"] == "risk_score"].set_index("course_week_number")
    shares = served["course_progress_share"].astype(float)
    picked = []
    for target in (0.2, 0.4, 0.6, 0.8):
        week = (shares - target).abs().idxmin()
        if week not in picked:
            picked.append(week)
    rows = served.loc[picked].reset_index()
    rows["best_baseline"] = rows["best_baseline_name"].map(
        lambda name: EVALUATION_NAMES.get(name, "").replace(" (baseline)", "")
    )
    spec = [
        ("course_week_number", "Course week", lambda v: f"{v:.0f}"),
        ("course_progress_share", "Share of the course", percent),
        ("positives", "With the outcome", lambda v: f"{v:.0f}"),
        ("roc_auc", "ROC AUC", lambda v: f"{v:.3f}"),
        ("roc_auc_gain", "Gain over the best baseline", lambda v: f"{v:+.3f}"),
        ("best_baseline", "Best baseline that week", None),
        ("high_or_medium_recall", "Caught by high + medium", percent),
        ("high_or_medium_precision", "Precision of high + medium", percent),
        ("high_band_recall", "Caught by high", percent),
        ("brier_score", "Brier score", lambda v: f"{v:.3f}"),
    ]
    return '<h3 class="table-title">The risk score served, through the course</h3>' + table(
        rows, spec, table_id="evaluation-table"
    )


def risk_evaluation(wh: Warehouse) -> Section:
    section = Section(
        "risk-evaluation",
        "How good the risk scores are against the school's outcomes",
        "Scores computed as of each course week with only what was knowable then, checked "
        "against an outcome the school chose and loaded with moodle-risk-evaluate (not the "
        "project's own dropout label), beside simple baselines from the same data. "
        "AUC 0.5 is guessing, 1.0 is perfect.",
    )
    section.missing = wh.missing("rpt_risk_evaluation")
    if section.missing:
        return not_available(section)
    frame = wh.frame("select * from {e} order by course_week_number", e="rpt_risk_evaluation")
    if frame.empty:
        section.body = (
            '<p class="missing">No outcomes loaded yet: run <code>moodle-risk-evaluate</code> '
            "(<code>make risk-evaluate</code>) with a file of what happened to the learners "
            "(a gradebook export, a pass/fail list), then generate the page again.</p>"
        )
        return section
    first = frame.iloc[0]
    served = frame[frame["score_name"] == "risk_score"]
    positives = int(served["positives"].max())
    learners = int(served["learner_courses"].max())
    summary = (
        f'<p class="note">Outcome: <strong>{escape(_text(first["outcome_name"]))}</strong>, '
        f"{positives:,} of {learners:,} learner-courses "
        f"({int(first['matched_learner_courses']):,} rows of the school's file matched, "
        f"{int(first['unmatched_outcome_rows']):,} left out; intervals from "
        f"{int(first['bootstrap_samples']):,} bootstrap samples).</p>"
    )
    section.body = (
        summary
        + figure(
            "evaluation-auc",
            "ROC AUC by course week",
            f"How well each week's scores rank the {positives:,} learner-courses with the "
            "outcome above the others; shaded: 95% intervals.",
            _evaluation_chart(frame),
            wide=True,
        )
        + _evaluation_table(frame)
    )
    return section


# ---------------------------------------------------------------- backtest


def backtest(wh: Warehouse) -> Section:
    section = Section(
        "backtest",
        "Risk scores against the site's own dropout label",
        "A backtest: scores computed as of each course week with only what was knowable "
        "then, checked against the project's dropout label of finished courses "
        "(dropout_definition; by default no activity in the last quarter of the course). "
        "The scores use activity too, so this flatters them: the section above measures "
        "them against the school's own outcomes. AUC 0.5 is guessing, 1.0 is perfect.",
    )
    section.missing = wh.missing("rpt_risk_backtest")
    if section.missing:
        return not_available(section)
    columns = wh.columns("rpt_risk_backtest")
    auc_column = next((c for c in ("roc_auc", "auc") if c in columns), None)
    if auc_column is None or "course_week_number" not in columns:
        section.missing = ["rpt_risk_backtest.course_week_number / roc_auc"]
        return not_available(section)
    # One line per way of scoring (the model, and the rule-based baseline it must beat);
    # the backtest also has a row per cohort, summed up in the cohort "all".
    method_column = next((c for c in ("score_method", "model_name") if c in columns), None)
    cohort_filter = "and cohort_name = 'all'" if "cohort_name" in columns else ""
    frame = wh.frame(
        f"""
        select {method_column if method_column else "'model'"} as method,
               course_week_number, {auc_column} as auc
        from {{b}}
        where course_week_number is not null {cohort_filter}
        order by course_week_number
        """,
        b="rpt_risk_backtest",
    )
    if frame.empty:
        section.body = '<p class="missing">No finished course to backtest against yet.</p>'
        return section
    names = {
        "model": "Risk model",
        "starter": "Starter score",
        "rule_based": "Rule-based score (small course weeks)",
    }
    series = []
    for method, rows in frame.groupby("method", sort=True):
        series.append(
            Series(
                names.get(str(method), str(method)),
                list(
                    zip(
                        rows["course_week_number"].astype(float),
                        rows["auc"].astype(float),
                        strict=True,
                    )
                ),
                colour=charts.PALETTE[0] if method == "model" else charts.PALETTE[6],
                dashed=method != "model",
            )
        )
    chart = charts.line_chart(
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
    dropouts = (
        wh.scalar(
            f"select max(dropouts) from {{b}} where course_week_number is not null {cohort_filter}",
            b="rpt_risk_backtest",
        )
        if "dropouts" in columns
        else None
    )
    labelled = f" ({_float(dropouts):,.0f} by that label)" if dropouts is not None else ""
    body = figure(
        "backtest-auc",
        "AUC by course week",
        f"How well the week's scores rank the learners labelled dropouts{labelled} above "
        "those who were not (ROC AUC, higher is better).",
        chart,
        wide=True,
    )
    if wh.has("rpt_risk_model_comparison"):
        body += _model_comparison(wh)
    section.body = body
    return section


def _model_comparison(wh: Warehouse) -> str:
    frame = wh.frame("select * from {m}", m="rpt_risk_model_comparison")
    if "course_week_number" in frame.columns:
        frame = frame[frame["course_week_number"].isna()]  # the all-weeks row of each model
    if frame.empty:
        return ""
    labels = {
        "model_name": ("Model", None),
        "is_chosen": ("Chosen", None),
        "mean_early_roc_auc": ("AUC, early weeks", lambda v: f"{_float(v):.3f}"),
        "roc_auc": ("ROC AUC", lambda v: f"{_float(v):.3f}"),
        "pr_auc": ("PR AUC", lambda v: f"{_float(v):.3f}"),
        "top_decile_precision": ("Precision, top 10%", percent),
        "brier_score": ("Brier score", lambda v: f"{_float(v):.3f}"),
    }
    spec = [(key, label, fmt) for key, (label, fmt) in labels.items() if key in frame.columns]
    reason = ""
    if "is_chosen" in frame.columns:
        chosen = frame[frame["is_chosen"].fillna(False).astype(bool)]
        if "choice_reason" in frame.columns and len(chosen):
            reason = f'<p class="note">{escape(_text(chosen["choice_reason"].iloc[0]))}</p>'
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


# ---------------------------------------------------------------- data quality


def data_quality(wh: Warehouse) -> Section:
    section = Section(
        "data-quality",
        "Where the log rows went",
        "Every row of Moodle's log is used, deliberately excluded or quarantined, with a "
        "reason; nothing disappears.",
    )
    section.missing = wh.missing("rpt_log_reconciliation")
    if section.missing:
        return not_available(section)
    lines = wh.frame(
        "select disposition, reason, log_rows from {r} order by log_rows desc",
        r="rpt_log_reconciliation",
    )
    colours = {
        "used": charts.PALETTE[2],
        "excluded": charts.PALETTE[6],
        "quarantined": charts.PALETTE[5],
    }
    chart = charts.bar_chart(
        [
            (f"{r.disposition}: {r.reason.replace('_', ' ')}", float(r.log_rows))
            for r in lines.itertuples()
        ],
        Axis("Log rows"),
        colours=[colours.get(d, charts.PALETTE[0]) for d in lines["disposition"]],
        label_width=250,
        bar_height=18,
        width=1180,
    )
    section.body = figure(
        "log-reconciliation",
        "Log rows by what happened to them",
        "Green: used as learner activity; grey: excluded on purpose (staff, anonymous, "
        "site-level, ...); orange: quarantined as untrustworthy.",
        chart,
        wide=True,
    )
    return section


# ---------------------------------------------------------------- lists to act on


def action_lists(wh: Warehouse) -> Section:
    section = Section(
        "action-lists",
        "Lists to act on",
        "The lists staff send from: reminders before deadlines, and programme outreach "
        "(the next course, or the paid track for a learner passing on the free one).",
    )
    section.missing = wh.missing(
        "fct_deadline_reminders", "rpt_outreach_next_course", "rpt_outreach_upgrade_track"
    )
    if section.missing:
        return not_available(section)
    reminders = wh.frame(
        """
        select coalesce(course_short_name, course_name) as course_label, days_left,
               learner_id, activity_id
        from {r}
        """,
        r="fct_deadline_reminders",
    )
    next_course = wh.scalar("select count(*) from {n}", n="rpt_outreach_next_course")
    upgrade = wh.scalar("select count(*) from {u}", u="rpt_outreach_upgrade_track")
    cards = [
        (
            "Deadline reminders",
            number(len(reminders)),
            f"{number(reminders['learner_id'].nunique())} learners, "
            f"{number(reminders['activity_id'].nunique())} activities due soon",
        ),
        (
            "Next course",
            number(_float(next_course)),
            "learners who passed some of a programme's courses, to tell about the next one",
        ),
        (
            "Paid track",
            number(_float(upgrade)),
            "learners passing on the free track, to offer the certificate track",
        ),
    ]
    body = (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="card-label">{escape(label)}</div>'
            f'<div class="card-value">{escape(value)}</div>'
            f'<div class="card-note">{escape(note)}</div></div>'
            for label, value, note in cards
        )
        + "</div>"
    )
    if len(reminders):
        buckets = (
            ("due in 0–2 days", 0, 2, "#c0392b"),
            ("3–7 days", 3, 7, "#e69f00"),
            ("8 days or more", 8, 10_000, "#4a90c2"),
        )
        rows = []
        for course, group in reminders.groupby("course_label", sort=True):
            days = group["days_left"].astype(float)
            rows.append(
                (
                    str(course),
                    [float(((days >= low) & (days <= high)).sum()) for _, low, high, _ in buckets],
                )
            )
        rows.sort(key=lambda row: -sum(row[1]))
        chart = charts.stacked_bars(
            rows,
            [(name, colour) for name, _, _, colour in buckets],
            Axis("Reminders (learner and activity)"),
            normalise=False,
            width=1180,
        )
        body += figure(
            "reminders-by-course",
            "Reminders to send, per course",
            "Learners who have not yet handed in an activity due soon, one per learner and "
            "activity, by days left before the due time.",
            chart,
            wide=True,
        )
    section.body = body
    return section


SECTIONS: tuple[Callable[[Warehouse], Section], ...] = (
    weekly_active,
    engagement_trend,
    risk,
    intervention_queue,
    course_comparison,
    programme_progress,
    action_lists,
    risk_evaluation,
    backtest,
    data_quality,
)
