"""Groups in the demo site: a course of the running term in separate groups mode.

Each running course with a non-editing teacher splits its learners into two
groups by user id, the non-editing teacher in the first: with Moodle's default
capabilities that teacher sees only the first group's learners, the editing
teacher every learner. Nothing here draws from the site's random generator,
so the rest of the site is the same with or without groups.
"""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.site import Course, SiteRows

SEPARATE_GROUPS = 1
GROUP_NAMES = ("Group A", "Group B")


def separate_groups_courses(courses: list[Course], as_of: int) -> list[Course]:
    """Courses of the running term that have a non-editing teacher."""
    return [
        course
        for course in courses
        if course.assistant_ids and course.start_at <= as_of < course.end_at
    ]


def add_groups(
    rows: SiteRows, courses: list[Course], learner_courses: dict[str, np.ndarray], as_of: int
) -> None:
    """groups and groups_members rows, and the group mode of the course rows."""
    chosen = separate_groups_courses(courses, as_of)
    course_rows = {row["id"]: row for row in rows.tables.get("course", [])}
    for course in chosen:
        created = course.start_at
        course_rows[course.id].update(groupmode=SEPARATE_GROUPS, groupmodeforce=0)
        group_ids = [_add_group(rows, course, name, created) for name in GROUP_NAMES]
        for assistant in course.assistant_ids:
            _add_member(rows, group_ids[0], assistant, created)
        learners = np.unique(learner_courses["user_id"][learner_courses["course_id"] == course.id])
        for user_id in learners:
            _add_member(rows, group_ids[int(user_id) % 2], int(user_id), created)


def _add_group(rows: SiteRows, course: Course, name: str, created: int) -> int:
    group_id = rows.ids.next("groups")
    rows.add(
        "groups",
        {
            "id": group_id,
            "courseid": course.id,
            "idnumber": "",
            "name": name,
            "descriptionformat": 1,
            "picture": 0,
            "visibility": 0,
            "participation": 1,
            "timecreated": created,
            "timemodified": created,
        },
    )
    return group_id


def _add_member(rows: SiteRows, group_id: int, user_id: int, added: int) -> None:
    rows.add(
        "groups_members",
        {
            "id": rows.ids.next("groups_members"),
            "groupid": group_id,
            "userid": user_id,
            "timeadded": added,
            "component": "",
            "itemid": 0,
        },
    )
