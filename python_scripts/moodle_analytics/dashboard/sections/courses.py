"""Sections comparing courses and teachers, and following programmes of several courses."""

from __future__ import annotations

import pandas as pd

from moodle_analytics.dashboard import charts
from moodle_analytics.dashboard.charts import Axis, number, percent
from moodle_analytics.dashboard.sections.parts import (
    STATUS_NAMES,
    Column,
    empty,
    figure,
    figures,
    section,
    table,
)
from moodle_analytics.dashboard.sections.values import (
    course_label,
    staff_ids,
    teacher_label,
    teacher_page_name,
)
from moodle_analytics.dashboard.warehouse import Warehouse

# The outcomes both the course and the teacher comparison show, as shares.
ACTIVE_SHARE: Column = ("weekly_active_share", "Active / week", percent)
OUTCOME_SHARES: list[Column] = [
    ("on_time_rate", "On time", percent),
    ("completion_rate", "Completed", percent),
    ("dropout_rate", "Dropout", percent),
    ("average_grade_share", "Avg grade", percent),
]
COURSE_COLUMNS: list[Column] = [
    ("course_label", "Course", None),
    ("status", "Status", None),
    ("learners", "Learners", number),
    ACTIVE_SHARE,
    ("minutes_per_learner_week", "Min / learner-week", number),
    *OUTCOME_SHARES,
]
TEACHER_COLUMNS: list[Column] = [
    ("teacher", "Teacher", None),
    ("courses", "Courses", None),
    ("learners_taught", "Learners", number),
    ACTIVE_SHARE,
    *OUTCOME_SHARES,
]
# Shares drawn as data bars under their number (minutes get theirs from the data).
SHARE_BARS = tuple(key for key, _, _ in [ACTIVE_SHARE, *OUTCOME_SHARES])


@section("course-comparison", needs=["rpt_course_comparison"])
def course_comparison(wh: Warehouse) -> str:
    """Course comparison

    Outcomes, engagement and punctuality of every course side by side. Rates of running
    courses are about learners whose outcome is already known.
    """
    courses = wh.frame(
        "select *, coalesce(course_short_name, course_name) as course_label from {r}",
        r="rpt_course_comparison",
    )
    # Finished courses first, the highest dropout first, then by name; ordered here, with
    # rates rounded, so that neither the engine's collation nor its last bits reorder them.
    courses = (
        courses.assign(
            unfinished=courses["course_status"] != "finished",
            dropout_order=-courses["dropout_rate"].astype(float).round(9),
        )
        .sort_values(["unfinished", "dropout_order", "course_label"], na_position="last")
        .drop(columns=["unfinished", "dropout_order"])
    )
    finished = courses[courses["course_status"] == "finished"].dropna(
        subset=["dropout_rate", "weekly_active_share"]
    )
    courses["status"] = courses["course_status"].map(STATUS_NAMES).fillna(courses["course_status"])
    bars = dict.fromkeys(SHARE_BARS, 1.0)
    bars["minutes_per_learner_week"] = float(courses["minutes_per_learner_week"].max() or 1)
    charts_html = (
        figures(_dropout(finished), _engagement_against_dropout(finished)) if len(finished) else ""
    )
    return charts_html + table(
        courses,
        COURSE_COLUMNS,
        table_id="course-table",
        bars=bars,
        caption="Click a column header to sort.",
    )


@section("teachers", needs=["rpt_teacher_comparison", "dim_courses"])
def teacher_comparison(wh: Warehouse) -> str:
    """Teachers

    Each teacher's courses and how the learners of all their courses do; the name opens
    the teacher's own page, which holds only their courses, their learners and the
    intervention queue they own.
    """
    teachers = wh.frame("select * from {t}", t="rpt_teacher_comparison")
    courses = wh.frame(
        "select course_id, course_short_name, course_name, teacher_staff_ids from {c}",
        c="dim_courses",
    )
    taught: dict[str, list[str]] = {}
    for course in courses.sort_values("course_id").itertuples():
        label = course_label(course.course_short_name, course.course_name)
        for staff_id in staff_ids(course.teacher_staff_ids):
            taught.setdefault(staff_id, []).append(label)
    # Narrowed to some courses, the table keeps those courses' teachers.
    teachers = teachers[teachers["staff_id"].isin(taught)]
    if teachers.empty:
        return empty("No teacher is enrolled in these courses.")
    names = teachers.get("teacher_name", pd.Series([None] * len(teachers), teachers.index))
    teachers = teachers.assign(
        teacher=[teacher_label(s, n) for s, n in zip(teachers["staff_id"], names, strict=True)],
        page=[teacher_page_name(staff_id) for staff_id in teachers["staff_id"]],
        courses=[", ".join(taught[staff_id]) for staff_id in teachers["staff_id"]],
    ).sort_values(["teacher", "staff_id"])
    return table(
        teachers,
        TEACHER_COLUMNS,
        table_id="teacher-table",
        bars=dict.fromkeys(SHARE_BARS, 1.0),
        links={"teacher": "page"},
        caption="Figures over all of each teacher's courses. Click a column header to sort.",
    )


@figure("course-dropout")
def _dropout(finished: pd.DataFrame) -> str:
    """Dropout rate of finished courses

    Share of each finished course's learners labelled dropouts, highest first.
    """
    return charts.bar_chart(
        [(row.course_label, float(row.dropout_rate)) for row in finished.itertuples()],
        Axis("Dropout rate (% of learners)", format=percent, domain=(0, 1)),
        colours=charts.PALETTE[5],
        label_width=150,
        width=580,
    )


@figure("course-engagement-vs-dropout")
def _engagement_against_dropout(finished: pd.DataFrame) -> str:
    """Engagement against dropout

    Each dot is a finished course: more weekly activity usually means fewer dropouts.
    """
    return charts.scatter(
        [
            (float(r.weekly_active_share), float(r.dropout_rate), r.course_label)
            for r in finished.itertuples()
        ],
        Axis("Weekly active share (% of learners active per week)", format=percent),
        Axis("Dropout rate (%)", format=percent),
        width=580,
        height=420,
    )


@section("programme-progress", needs=["fct_programme_progress"])
def programme_progress(wh: Warehouse) -> str:
    """Programme progress

    Learners of each programme by how many of its courses they have passed.
    """
    progress = wh.frame(
        """
        select programme_code, programme_name, programme_courses, courses_passed,
               is_certificate_earned
        from {p}
        """,
        p="fct_programme_progress",
    )
    if progress.empty:
        return empty("No programme learners yet.")
    most = int(progress["programme_courses"].max())
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
    return _courses_passed(rows, most) + table(
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


@figure("programme-progress-chart", wide=True)
def _courses_passed(rows: list[tuple[str, list[float]]], most: int) -> str:
    """Courses passed per programme

    Each bar is a programme's learners split by how many of its courses they have
    passed; n is the number of learners.
    """
    # From grey (none passed) to deep blue (the most courses any programme has).
    categories = [
        (
            f"{passed} passed",
            charts.sequential(0.25 + 0.75 * passed / most) if passed else "#d9dee3",
        )
        for passed in range(most + 1)
    ]
    return charts.stacked_bars(
        rows,
        categories,
        Axis("Share of the programme's learners (%)", format=percent),
        label_width=300,
        width=1180,
    )
