"""Sections about learner activity over time: weekly active learners per course, and
the engagement trend of the courses shown."""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from moodle_analytics.dashboard import charts
from moodle_analytics.dashboard.charts import Axis, Band, Series, percent
from moodle_analytics.dashboard.sections.parts import (
    STATUS_NAMES,
    STATUS_ORDER,
    empty,
    figure,
    figures,
    section,
)
from moodle_analytics.dashboard.sections.values import as_float, as_text, course_label, xy
from moodle_analytics.dashboard.warehouse import Warehouse

SMALL_MULTIPLES_LIMIT = 24


@section("weekly-active", needs=["fct_course_weeks", "dim_courses"])
def weekly_active(wh: Warehouse) -> str:
    """Weekly active learners per course

    Learners with at least one activity in each course week (blue line) against the learners
    enrolled and followed that week (grey area). A widening gap is learners going quiet.
    """
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
        return empty("No course weeks yet.")
    courses = (
        weeks[["course_id", "course_short_name", "course_name", "course_status", "starts_at"]]
        .drop_duplicates("course_id")
        .assign(rank=lambda f: f["course_status"].map(STATUS_ORDER).fillna(4))
        .sort_values(["rank", "starts_at", "course_short_name"], ascending=[True, False, True])
    )
    shown = courses.head(SMALL_MULTIPLES_LIMIT)
    panels = [_course_panel(course, weeks) for course in shown.itertuples()]
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
    return legend + grid + more + _activity_heatmap(complete, courses)


def _course_panel(course, weeks: pd.DataFrame) -> str:
    """One course's small chart of active against followed learners, by course week."""
    course_weeks = weeks[weeks["course_id"] == course.course_id]
    # The running week is left out: its counts are still growing and would look like a drop.
    rows = course_weeks[course_weeks["is_complete_week"]].sort_values("course_week_number")
    if rows.empty:
        return ""
    x_max = max(float(rows["course_week_number"].max()), 2.0)
    svg = _active_and_followed(
        rows,
        "course_week_number",
        Axis("Course week", domain=(1, x_max)),
        line_width=2.2,
        width=380,
        height=200,
        legend=False,
        compact=True,
    )
    last = rows.tail(1)
    note = (
        f"week {int(last['course_week_number'].iloc[0])}: "
        f"{percent(as_float(last['active_share'].iloc[0]))} active"
    )
    if len(course_weeks) > len(rows):
        note += f"; week {int(course_weeks['course_week_number'].max())} in progress"
    status = STATUS_NAMES.get(course.course_status, as_text(course.course_status))
    return (
        f'<figure class="panel" data-chart="weekly-active-{course.course_id}">'
        f"<figcaption><h3>{escape(course_label(course.course_short_name, course.course_name))}"
        f"</h3><p>{escape(as_text(course.course_name))} · {escape(status)} · "
        f"{escape(note)}</p></figcaption>{svg}</figure>"
    )


def _active_and_followed(
    frame: pd.DataFrame,
    x: str,
    x_axis: Axis,
    *,
    line_width: float = 2.5,
    markers: bool = True,
    **chart_options,
) -> str:
    """Learners active (a line) against the learners followed (a grey area), by the
    column ``x`` of a frame with learners_active and learners_followed."""
    return charts.line_chart(
        [
            Series(
                "Active learners",
                xy(frame, x, "learners_active"),
                colour=charts.PALETTE[0],
                width=line_width,
                markers=markers,
            )
        ],
        x_axis,
        Axis("Learners"),
        bands=[
            Band("Learners followed", [(p, 0.0, f) for p, f in xy(frame, x, "learners_followed")])
        ],
        **chart_options,
    )


@figure("activity-heatmap", wide=True)
def _activity_heatmap(weeks: pd.DataFrame, courses: pd.DataFrame) -> str:
    """Share of learners active, every course and week

    Each cell is one complete course week: the darker, the larger the share of followed
    learners who did anything that week. Blank: no such week (yet).
    """
    last_week = int(weeks["course_week_number"].max())
    columns = [str(week) for week in range(1, last_week + 1)]
    values, labels = [], []
    for course in courses.itertuples():
        rows = weeks[weeks["course_id"] == course.course_id]
        by_week = dict(zip(rows["course_week_number"], rows["active_share"], strict=True))
        values.append([as_float(by_week.get(week, math.nan)) for week in range(1, last_week + 1)])
        labels.append(course_label(course.course_short_name, course.course_name))
    finite = [v for row in values for v in row if math.isfinite(v)]
    low = math.floor(min(finite, default=0.0) * 10) / 10
    return charts.heatmap(
        labels,
        columns,
        values,
        legend_label="Share of followed learners active",
        column_title="Course week",
        domain=(low, 1.0),
        width=1180,
    )


@section("engagement-trend", needs=["fct_learner_weeks", "fct_course_weeks", "dim_courses"])
def engagement_trend(wh: Warehouse) -> str:
    """Engagement trend

    How engaged learners were week by week across the courses shown (complete weeks only),
    and how this term's courses compare with the site's typical course so far.
    """
    by_calendar = wh.frame(
        """
        select calendar_week_starting,
               count(*) as learners_followed,
               sum(cast(is_active as integer)) as learners_active,
               avg(minutes_on_task) as minutes
        from {w}
        where is_complete_week
        group by calendar_week_starting
        order by calendar_week_starting
        """,
        w="fct_learner_weeks",
    )
    if by_calendar.empty:
        return empty("No complete week yet.")
    by_calendar["position"] = [float(p) for p in range(len(by_calendar))]
    return figures(_site_active(by_calendar), _site_minutes(by_calendar), _term_against_typical(wh))


def _calendar_axis(by_calendar: pd.DataFrame) -> Axis:
    """Calendar weeks by their position (0, 1, ...), about seven labelled by month; by day
    when they span less than a quarter (one course's weeks), so labels do not repeat."""
    dates = pd.to_datetime(by_calendar["calendar_week_starting"])
    positions = list(by_calendar["position"])
    step = max(1, math.ceil(len(dates) / 7))
    by_day = len(dates) <= 13

    def day_or_month(date: pd.Timestamp) -> str:
        return f"{date.day} {date:%b}" if by_day else f"{date:%b %Y}"

    return Axis(
        "Calendar week (starting Monday)",
        ticks=positions[::step],
        tick_labels={p: day_or_month(dates.iloc[int(p)]) for p in positions},
    )


@figure("engagement-active-learners")
def _site_active(by_calendar: pd.DataFrame) -> str:
    """Learners active each week

    Learners with any activity (line) among those followed that week (grey area), the
    courses shown together.
    """
    return _active_and_followed(
        by_calendar,
        "position",
        _calendar_axis(by_calendar),
        markers=len(by_calendar) <= 40,
        width=580,
        height=300,
    )


@figure("engagement-minutes")
def _site_minutes(by_calendar: pd.DataFrame) -> str:
    """Time on task per learner

    Average minutes on task per followed learner per week; weeks following fewer learners
    than a fifth of the median week (or 10) are left out.
    """
    followed = by_calendar["learners_followed"]
    enough = max(10.0, 0.2 * float(followed.median()))
    minutes = [
        (p, as_float(m) if f >= enough else None)
        for p, m, f in zip(by_calendar["position"], by_calendar["minutes"], followed, strict=True)
    ]
    return charts.line_chart(
        [
            Series(
                "Minutes on task per learner",
                minutes,
                colour=charts.PALETTE[2],
                markers=len(by_calendar) <= 40,
            )
        ],
        _calendar_axis(by_calendar),
        Axis("Minutes per learner per week"),
        legend=False,
        width=580,
        height=300,
    )


@figure("engagement-term-vs-typical", wide=True)
def _term_against_typical(wh: Warehouse) -> str:
    """This term's courses against the typical course

    Share of followed learners active by course week: each running course (coloured
    lines) against the median finished course of the whole site (grey line) and the
    middle half of its finished courses (grey band).
    """
    sql = """
        select c.course_id, coalesce(c.course_short_name, c.course_name) as course_label,
               c.course_status, w.course_week_number, w.active_share
        from {w} as w
        inner join {c} as c on w.course_id = c.course_id
        where w.is_complete_week and w.active_share is not null
        order by w.course_week_number
        """
    weeks = wh.frame(sql, w="fct_course_weeks", c="dim_courses")
    # The typical course is the whole site's, whatever courses the page shows.
    typical = wh.whole_site().frame(sql, w="fct_course_weeks", c="dim_courses")
    finished = typical[typical["course_status"] == "finished"]
    running = weeks[weeks["course_status"] == "running"]
    if finished.empty and running.empty:
        return ""
    quartiles = (
        finished.groupby("course_week_number")["active_share"].quantile([0.25, 0.5, 0.75]).unstack()
    )
    series, bands = [], []
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
        bands.append(
            Band(
                "Finished courses, middle half",
                [(float(w), float(q[0.25]), float(q[0.75])) for w, q in quartiles.iterrows()],
            )
        )
    palette = iter(charts.PALETTE)
    for label, rows in running.groupby("course_label", sort=True):
        series.append(
            Series(
                str(label),
                xy(rows, "course_week_number", "active_share"),
                colour=next(palette, None),
                width=2,
            )
        )
    return charts.line_chart(
        series,
        Axis("Course week"),
        Axis("Learners active (%)", format=percent, domain=(0, 1)),
        bands=bands,
        width=1180,
        height=360,
    )
