"""Sections about the site as a whole: key figures, the lists staff act on, where the
log rows went."""

from __future__ import annotations

import math

import pandas as pd

from moodle_analytics.dashboard import charts
from moodle_analytics.dashboard.charts import Axis, number, percent
from moodle_analytics.dashboard.sections.parts import cards, figure, section
from moodle_analytics.dashboard.sections.values import as_float, as_text, counted
from moodle_analytics.dashboard.warehouse import Warehouse

REMINDER_BUCKETS = (
    ("due in 0–2 days", 0, 2, "#c0392b"),
    ("3–7 days", 3, 7, "#e69f00"),
    ("8 days or more", 8, 10_000, "#4a90c2"),
)


@section("overview", needs=["dim_courses", "fct_learner_courses", "fct_learner_weeks"])
def overview(wh: Warehouse) -> str:
    """At a glance

    The courses shown, as of the analysis moment: how many, their learners and how many
    were active in the latest complete week.
    """
    return cards(_site_figures(wh) + _latest_week(wh))


def latest_activity(wh: Warehouse) -> str:
    """The newest learner activity in the marts, for the page header: it stands for the
    moment the data is as of, as the page reads tables only (the exposure's rule)."""
    if not wh.has("fct_learner_courses"):
        return ""
    return as_text(wh.scalar("select max(last_activity_at) from {f}", f="fct_learner_courses"))


def _site_figures(wh: Warehouse) -> list[tuple[str, str, str]]:
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
    running = int((courses["course_status"].isin(["running", "open_ended", "self_paced"])).sum())
    return [
        ("Courses", number(len(courses)), f"{running} running or open"),
        (
            "Learners",
            number(learner_courses["learners"]),
            f"{number(learner_courses['learner_courses'])} learner-course enrolments",
        ),
        (
            "Dropout rate",
            percent(as_float(learner_courses["dropout_rate"])),
            "of learners in courses whose outcome is known",
        ),
        (
            "Completion rate",
            percent(as_float(learner_courses["completion_rate"])),
            "Moodle course completion where tracked, outcome known",
        ),
    ]


def _latest_week(wh: Warehouse) -> list[tuple[str, str, str]]:
    """The share of followed learners active in the latest complete week, if any."""
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
    if not len(latest):
        return []
    week = latest.iloc[0]
    share = week["active"] / week["followed"] if week["followed"] else math.nan
    return [
        (
            "Active last week",
            percent(share),
            f"{number(week['active'])} of {number(week['followed'])} learners followed, "
            f"week of {pd.Timestamp(week['calendar_week_starting']):%d %b %Y}",
        )
    ]


@section(
    "action-lists",
    needs=["fct_deadline_reminders", "rpt_outreach_next_course", "rpt_outreach_upgrade_track"],
)
def action_lists(wh: Warehouse) -> str:
    """Lists to act on

    The lists staff send from: reminders before deadlines, and programme outreach (the next
    course, or the paid track for a learner passing on the free one).
    """
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
    body = cards(
        [
            (
                "Deadline reminders",
                number(len(reminders)),
                f"{counted(reminders['learner_id'].nunique(), 'learner', 'learners')}, "
                f"{counted(reminders['activity_id'].nunique(), 'activity', 'activities')} "
                "due soon",
            ),
            (
                "Next course",
                number(as_float(next_course)),
                "learners who passed some of a programme's courses, to tell about the next one",
            ),
            (
                "Paid track",
                number(as_float(upgrade)),
                "learners passing on the free track, to offer the certificate track",
            ),
        ]
    )
    if len(reminders):
        body += _reminders_by_course(reminders)
    return body


@figure("reminders-by-course", wide=True)
def _reminders_by_course(reminders: pd.DataFrame) -> str:
    """Reminders to send, per course

    Learners who have not yet handed in an activity due soon, one per learner and
    activity, by days left before the due time.
    """
    rows = []
    for course, group in reminders.groupby("course_label", sort=True):
        days = group["days_left"].astype(float)
        counts = [
            float(((days >= low) & (days <= high)).sum()) for _, low, high, _ in REMINDER_BUCKETS
        ]
        rows.append((str(course), counts))
    rows.sort(key=lambda row: -sum(row[1]))
    return charts.stacked_bars(
        rows,
        [(name, colour) for name, _, _, colour in REMINDER_BUCKETS],
        Axis("Reminders (learner and activity)"),
        normalise=False,
        width=1180,
    )


@section("data-quality", needs=["rpt_log_reconciliation"])
def data_quality(wh: Warehouse) -> str:
    """Where the log rows went

    Every row of Moodle's log is used, deliberately excluded or quarantined, with a reason;
    nothing disappears.
    """
    lines = wh.frame(
        "select disposition, reason, log_rows from {r}", r="rpt_log_reconciliation"
    ).sort_values(["log_rows", "disposition", "reason"], ascending=[False, True, True])
    return _log_rows(lines)


@figure("log-reconciliation", wide=True)
def _log_rows(lines: pd.DataFrame) -> str:
    """Log rows by what happened to them

    Green: used as learner activity; grey: excluded on purpose (staff, anonymous,
    site-level, ...); orange: quarantined as untrustworthy.
    """
    colours = {
        "used": charts.PALETTE[2],
        "excluded": charts.PALETTE[6],
        "quarantined": charts.PALETTE[5],
    }
    return charts.bar_chart(
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
