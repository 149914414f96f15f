"""The pages the dashboard writes and what each can be narrowed to.

The site page shows every course; each teacher has a page of their own holding only
their courses' learners and the intervention queue rows they own, so it can be handed
to them alone. Every page can be narrowed to one of its courses. Teachers and their
courses come from dim_courses (teacher_staff_ids: the course's editing and non-editing
teachers), their names from rpt_teacher_comparison when the marts were built with
include_pii; otherwise a teacher is shown by the start of their pseudonymous staff_id.
"""

from __future__ import annotations

from dataclasses import dataclass

from moodle_analytics.dashboard.sections.parts import STATUS_NAMES, STATUS_ORDER
from moodle_analytics.dashboard.sections.values import (
    as_text,
    course_label,
    staff_ids,
    teacher_label,
    teacher_page_name,
)
from moodle_analytics.dashboard.warehouse import Scope, Warehouse


@dataclass(frozen=True)
class Course:
    course_id: int
    label: str
    status: str

    @property
    def choice_label(self) -> str:
        return f"{self.label} ({STATUS_NAMES.get(self.status, self.status)})"


@dataclass(frozen=True)
class Teacher:
    staff_id: str
    label: str
    course_ids: tuple[int, ...]

    @property
    def page_name(self) -> str:
        return teacher_page_name(self.staff_id)


@dataclass(frozen=True)
class PagePlan:
    """One page: its file name, whose it is (None: the site's) and its courses."""

    file_name: str
    teacher: Teacher | None
    courses: tuple[Course, ...]

    @property
    def scope(self) -> Scope:
        if self.teacher is None:
            return Scope()
        return Scope(self.teacher.course_ids, self.teacher.staff_id)


def read_courses(wh: Warehouse) -> list[Course]:
    """Every course, running ones first, then self-paced, upcoming and finished ones, the
    most recent first."""
    if not wh.has("dim_courses"):
        return []
    frame = wh.frame("select * from {c}", c="dim_courses")
    for column in ("course_short_name", "course_name", "course_status", "starts_at"):
        if column not in frame.columns:
            frame[column] = None
    frame = frame.assign(
        rank=frame["course_status"].map(STATUS_ORDER).fillna(len(STATUS_ORDER)),
        label=[
            course_label(short, name)
            for short, name in zip(frame["course_short_name"], frame["course_name"], strict=True)
        ],
    ).sort_values(["rank", "starts_at", "label", "course_id"], ascending=[True, False, True, True])
    return [
        Course(int(row.course_id), row.label, as_text(row.course_status))
        for row in frame.itertuples()
    ]


def read_teachers(wh: Warehouse) -> list[Teacher]:
    """Every teacher of a course, by label."""
    if not wh.has("dim_courses") or "teacher_staff_ids" not in wh.columns("dim_courses"):
        return []
    listed = wh.frame(
        "select course_id, teacher_staff_ids from {c} where teacher_staff_ids is not null",
        c="dim_courses",
    )
    courses: dict[str, list[int]] = {}
    for row in listed.itertuples():
        for staff_id in staff_ids(row.teacher_staff_ids):
            courses.setdefault(staff_id, []).append(int(row.course_id))
    names: dict[str, str] = {}
    if wh.has("rpt_teacher_comparison") and "teacher_name" in wh.columns("rpt_teacher_comparison"):
        named = wh.frame(
            "select staff_id, teacher_name from {t} where teacher_name is not null",
            t="rpt_teacher_comparison",
        )
        names = dict(zip(named["staff_id"], named["teacher_name"], strict=True))
    teachers = [
        Teacher(staff_id, teacher_label(staff_id, names.get(staff_id)), tuple(sorted(ids)))
        for staff_id, ids in courses.items()
    ]
    return sorted(teachers, key=lambda teacher: (teacher.label, teacher.staff_id))


def page_plans(site_file: str, courses: list[Course], teachers: list[Teacher]) -> list[PagePlan]:
    """The site page, then one page per teacher."""
    plans = [PagePlan(site_file, None, tuple(courses))]
    for teacher in teachers:
        own = tuple(course for course in courses if course.course_id in teacher.course_ids)
        plans.append(PagePlan(teacher.page_name, teacher, own))
    return plans
