"""The courses of every term: offerings, settings, enrolment methods and gradebook.

Each term offers the programme courses its cohort has reached and electives
to fill the rest; course settings vary on purpose (grading scale, pass grade,
completion tracking, end date, guest access, missing work graded as zero) so
the models meet what real sites hold. A course's activities come from
activities.py; one self-paced course runs across the terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodle_analytics.demo.activities import ActivityBuilder
from moodle_analytics.demo.config import WEEK, DemoConfig
from moodle_analytics.demo.site import (
    ELECTIVES,
    NON_EDITING_TEACHER_ROLE_ID,
    PROGRAMME_COURSES,
    STUDENT_ROLE_ID,
    TEACHER_ROLE_ID,
    Course,
    SiteRows,
    term_code,
)


def break_week(start: int, weeks: int) -> int:
    """The course week of a term's break: a reading week in autumn, Easter in spring.

    Terms shorter than eight weeks have none.
    """
    if weeks < 8:
        return 0
    autumn = term_code(start).endswith("FA")
    return round(weeks * (0.45 if autumn else 0.55))


@dataclass(frozen=True)
class Offering:
    """A course as the timetable offers it, before it has ids."""

    code: str
    name: str
    term_index: int  # -1 for the self-paced course
    start: int  # 0 for the self-paced course
    end: int  # 0 for no end date
    weeks: int
    has_completion: bool
    idnumber: str
    shortname: str
    fullname: str
    break_week: int = 0  # 0: no break


class CourseBuilder:
    def __init__(
        self,
        rows: SiteRows,
        config: DemoConfig,
        rng: np.random.Generator,
        teacher_ids: list[int],
        category_context: dict[int, int],
    ):
        self.rows = rows
        self.config = config
        self.rng = rng
        self.teacher_ids = teacher_ids
        self.category_context = category_context
        self.term_starts = config.term_starts()
        self.activities = ActivityBuilder(rows)
        self.courses: list[Course] = []

    def category_for(self, code: str) -> int:
        if code.startswith(("DS", "CS", "MAT", "SCI")):
            return 4 if code.startswith("DS") else 3
        return 6 if code.startswith("BUS") else 5

    def term_offerings(self, term_index: int) -> list[tuple[str, str]]:
        """Course codes offered in a term: programme stages first, electives fill the rest."""
        programme = []
        for stage in range(3):
            if term_index >= stage:
                programme += [courses[stage] for courses in PROGRAMME_COURSES.values()]
        offerings = programme[: self.config.courses_per_term]
        elective_index = term_index * 2
        while len(offerings) < self.config.courses_per_term:
            code, name = ELECTIVES[elective_index % len(ELECTIVES)]
            section = elective_index // len(ELECTIVES)
            if section:
                code, name = f"{code}{chr(ord('A') + section)}", f"{name} (group {section + 1})"
            offerings.append((code, name))
            elective_index += 1
        return offerings

    def add_courses(self) -> None:
        weeks = self.config.weeks_per_term
        course_index = 0
        for term_index, start in enumerate(self.term_starts):
            code_of_term = term_code(start)
            for code, name in self.term_offerings(term_index):
                # Every sixth course does not track completion; every eleventh
                # has no end date; two courses in three break for a week.
                self.new_course(
                    Offering(
                        code=code,
                        name=name,
                        term_index=term_index,
                        start=start,
                        end=0 if course_index % 11 == 7 else start + weeks * WEEK,
                        weeks=weeks,
                        has_completion=course_index % 6 != 5,
                        idnumber=f"{code}-{code_of_term}",
                        shortname=f"{code} {code_of_term}",
                        fullname=f"{name} ({code_of_term})",
                        break_week=break_week(start, weeks) if course_index % 3 != 2 else 0,
                    )
                )
                course_index += 1
        # One self-paced course without start or end date: learners join at any
        # time and weeks count from their own enrolment.
        self.new_course(
            Offering(
                code="OPEN100",
                name="Study Skills for Online Learning",
                term_index=-1,
                start=0,
                end=0,
                weeks=8,
                has_completion=True,
                idnumber="OPEN100",
                shortname="OPEN100",
                fullname="Study Skills for Online Learning (self-paced)",
            )
        )

    def new_course(self, offering: Offering) -> Course:
        course_id = self.rows.ids.next("course")
        category = 7 if offering.term_index < 0 else self.category_for(offering.code)
        created = (offering.start or self.term_starts[0]) - 4 * WEEK
        self.rows.course_created_at[course_id] = created
        context_id = self.rows.new_context(
            50, course_id, self.rows.context_path(self.category_context[category])
        )
        course = Course(
            id=course_id,
            code=offering.code,
            fullname=offering.fullname,
            shortname=offering.shortname,
            idnumber=offering.idnumber,
            category_id=category,
            term_index=offering.term_index,
            start_at=offering.start,
            end_at=offering.end,
            weeks=offering.weeks,
            has_completion=offering.has_completion,
            context_id=context_id,
            break_week=offering.break_week,
        )
        self.settle_settings(course)
        self.add_course_row(course, offering.name, created)
        self.add_enrol_instances(course, created)
        self.add_gradebook(course, created)
        self.activities.add(course, created)
        self.add_staff_enrolments(course, created)
        self.courses.append(course)
        return course

    def settle_settings(self, course: Course) -> None:
        """Settings that vary between courses, and who teaches it."""
        course_id = course.id
        # A grading scale of 0-20 in some courses makes normalisation matter.
        course.course_grademax = 20.0 if course_id % 5 == 0 else 100.0
        course.course_gradepass = round(
            course.course_grademax * (0.6 if course_id % 3 == 0 else 0.5), 5
        )
        course.guest_access = course_id % 4 == 1
        course.grades_missing_as_zero = course_id % 2 == 0
        lead = self.teacher_ids[(course_id + course.term_index) % len(self.teacher_ids)]
        course.teacher_ids = [lead]
        if self.rng.random() < 0.5:
            other = self.teacher_ids[(course_id * 7 + 3) % len(self.teacher_ids)]
            if other != lead:
                course.assistant_ids = [other]

    def add_course_row(self, course: Course, name: str, created: int) -> None:
        self.rows.add(
            "course",
            {
                "id": course.id,
                "category": course.category_id,
                "sortorder": 10000 * course.category_id + course.id,
                "fullname": course.fullname,
                "shortname": course.shortname,
                "idnumber": course.idnumber,
                "summary": f"<p>{name}.</p>",
                "summaryformat": 1,
                "format": "topics" if course.is_self_paced else "weeks",
                "startdate": course.start_at,
                "enddate": course.end_at,
                "visible": 1,
                "lang": "",
                "calendartype": "",
                "theme": "",
                "timecreated": created,
                "timemodified": created,
                "enablecompletion": 1 if course.has_completion else 0,
                "showactivitydates": 1,
                "showcompletionconditions": 1 if course.has_completion else None,
                "cacherev": created,
            },
        )

    def add_enrol_instances(self, course: Course, created: int) -> None:
        # manual (institutional), self (free/audit track), fee (paid/verified
        # track), guest access (enabled in some courses).
        plans = [
            ("manual", 0, {}),
            ("guest", 0 if course.guest_access else 1, {}),
            ("self", 0, {"name": "Audit (free)", "customint6": 1}),
            ("fee", 0, {"name": "Verified certificate", "cost": "49.00", "currency": "EUR",
                        "customint1": 1}),
        ]  # fmt: skip
        for sortorder, (method, status, extra) in enumerate(plans):
            enrol_id = self.rows.ids.next("enrol")
            course.enrol_ids[method] = enrol_id
            row = {
                "id": enrol_id,
                "enrol": method,
                "status": status,
                "courseid": course.id,
                "sortorder": sortorder,
                "roleid": STUDENT_ROLE_ID if method != "guest" else 0,
                "enrolperiod": 0,
                "enrolstartdate": 0,
                "enrolenddate": 0,
                "expirynotify": 0,
                "expirythreshold": 0,
                "notifyall": 0,
                "timecreated": created,
                "timemodified": created,
            }
            row.update(extra)
            self.rows.add("enrol", row)

    def add_gradebook(self, course: Course, created: int) -> None:
        category_id = self.rows.ids.next("grade_categories")
        course.grade_category_id = category_id
        self.rows.add(
            "grade_categories",
            {
                "id": category_id,
                "courseid": course.id,
                "parent": None,
                "depth": 1,
                "path": f"/{category_id}/",
                "fullname": "?",
                # 0 = mean of grades; empty grades count as 0 (the school's
                # final mark counts missing work)
                "aggregation": 0,
                "aggregateonlygraded": 0,
                "timecreated": created,
                "timemodified": created,
            },
        )
        course.course_grade_item_id = self.rows.add_grade_item(
            course, created, "course", None, None, course.course_grademax, course.course_gradepass
        )

    def add_staff_enrolments(self, course: Course, created: int) -> None:
        for teacher in course.teacher_ids:
            self.rows.enrol(course, teacher, "manual", TEACHER_ROLE_ID, 0, 0, created)
        for assistant in course.assistant_ids:
            self.rows.enrol(course, assistant, "manual", NON_EDITING_TEACHER_ROLE_ID, 0, 0, created)
