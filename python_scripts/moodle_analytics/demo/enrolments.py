"""Who takes which course, and how each learner-course is designed to go.

Learners join the site before their first term; later terms take learners
who passed the previous course of their programme, returning learners and
new ones; the self-paced course takes learners at any time. Each enrolment
gets its method (manual, self, fee), window and the learner-course's design
(personas.py), returned as parallel arrays, one entry per learner-course.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK, DemoConfig
from moodle_analytics.demo.personas import (
    design_learner_course,
    last_week_on_calendar,
    persona_codes,
    quality,
)
from moodle_analytics.demo.site import PROGRAMME_COURSES, STUDENT_ROLE_ID, Course, SiteRows


class LearnerCourse(NamedTuple):
    """One learner's enrolment in a course and its design (a tuple: sites hold many)."""

    user_id: int
    course_id: int
    enrol_method: str
    trajectory: str
    last_active_week: int
    engagement: float
    ability: float
    persona: str
    enrolled_at: int
    first_week: int
    ue_id: int
    is_mobile_user: bool
    enrol_start: int
    enrol_end: int
    ra_id: int


FIELDS = LearnerCourse._fields


class EnrolmentPlanner:
    def __init__(
        self, rows: SiteRows, config: DemoConfig, rng: np.random.Generator, courses: list[Course]
    ):
        self.rows = rows
        self.config = config
        self.rng = rng
        self.courses = courses
        self.term_starts = config.term_starts()

    def plan_enrolments(self) -> dict[str, np.ndarray]:
        """Who takes which course, and how each learner-course is designed to go."""
        self.traits: dict[int, tuple[float, float]] = {}  # user -> (engagement, ability)
        self.pool: list[int] = []
        self.passed: dict[int, set[str]] = {}  # course codes a learner is expected to pass
        self.records: list[LearnerCourse] = []
        for term_index in range(self.config.terms):
            self.plan_term(term_index)
        self.plan_self_paced()
        columns = zip(*self.records, strict=True)
        arrays = {name: np.array(values) for name, values in zip(FIELDS, columns, strict=True)}
        arrays["persona"] = persona_codes(arrays["persona"])
        return arrays

    def new_learner(self, created: int) -> int:
        user_id = self.rows.person(created)
        engagement = float(self.rng.normal())
        ability = 0.45 * engagement + float(np.sqrt(1 - 0.45**2) * self.rng.normal())
        self.traits[user_id] = (engagement, ability)
        self.pool.append(user_id)
        return user_id

    def plan_term(self, term_index: int) -> None:
        """A term's courses take continuing learners, returning ones and new ones."""
        rng = self.rng
        courses = [c for c in self.courses if c.term_index == term_index]
        taken_this_term: dict[int, int] = {}
        # Course sizes vary by up to a quarter, but a term holds as many
        # learner-courses as asked for, so --target-log-rows stays close.
        spread = rng.uniform(0.75, 1.25, len(courses))
        spread /= spread.mean()
        for course, share in zip(courses, spread, strict=True):
            size = max(5, round(self.config.learners_per_course * share))
            chosen = self.continuing_learners(course, size)
            chosen_set = set(chosen)
            returning = [
                u for u in self.pool if u not in chosen_set and taken_this_term.get(u, 0) < 2
            ]
            rng.shuffle(returning)
            for user_id in returning:
                if len(chosen) >= size * 0.5:
                    break
                if rng.random() < 0.35:
                    chosen.append(user_id)
            while len(chosen) < size:
                chosen.append(self.new_learner(course.start_at - int(rng.integers(3, 6)) * WEEK))
            for user_id in chosen:
                taken_this_term[user_id] = taken_this_term.get(user_id, 0) + 1
                record = self.enrol_learner(course, user_id)
                self.records.append(record)
                expected = quality(record.persona, record.ability)
                if record.trajectory == "steady" and expected > -0.35:
                    self.passed.setdefault(user_id, set()).add(course.code)

    def continuing_learners(self, course: Course, size: int) -> list[int]:
        """Learners who passed the previous course of the programme take the next one."""
        stage = programme_stage(course.code)
        if not stage or stage[1] == 0:
            return []
        previous_code = PROGRAMME_COURSES[stage[0]][stage[1] - 1][0]
        chosen = []
        for user_id in self.pool:
            passed = self.passed.get(user_id, set())
            if previous_code not in passed or course.code in passed:
                continue
            if len(chosen) < size * 0.7 and self.rng.random() < 0.65:
                chosen.append(user_id)
        return chosen

    def plan_self_paced(self) -> None:
        """The self-paced course takes learners at any time."""
        rng = self.rng
        open_course = next(c for c in self.courses if c.is_self_paced)
        first, last = self.term_starts[0], self.config.as_of_epoch - 2 * WEEK
        joined_open: set[int] = set()
        for _ in range(max(5, self.config.learners_per_course // 2)):
            user_id = (
                self.pool[int(rng.integers(len(self.pool)))]
                if rng.random() < 0.5
                else self.new_learner(first)
            )
            joined = int(rng.integers(first, last))
            if user_id in joined_open:  # drawn twice: one enrolment per course
                continue
            joined_open.add(user_id)
            self.records.append(self.enrol_learner(open_course, user_id, joined))

    def enrol_learner(
        self, course: Course, user_id: int, joined: int | None = None
    ) -> LearnerCourse:
        """Design a learner-course and enrol the learner; returns the learner-course."""
        rng = self.rng
        design = design_learner_course(rng, self.traits[user_id], course.weeks)
        if course.is_self_paced:
            anchor = enrolled_at = joined
            first_week = 1
        else:
            anchor = course.start_at
            late = rng.random() < 0.1
            first_week = int(rng.integers(2, 4)) if late else 1
            enrolled_at = anchor + (first_week - 1) * WEEK - int(rng.integers(0, 10 * DAY))
        last_week = last_week_on_calendar(design, first_week, course.break_week)
        method_draw = rng.random()
        method = "self" if method_draw < 0.4 else ("fee" if method_draw < 0.65 else "manual")
        # Manual enrolments start at the course start; self and fee ones when
        # the learner enrols. Some sites set an end to the enrolment.
        start = anchor if method == "manual" else enrolled_at
        end = 0
        if not course.is_self_paced and rng.random() < 0.15:
            end = course.start_at + (course.weeks + 4) * WEEK
        elif rng.random() < 0.1:
            end = 2147483647
        ue_id, ra_id = self.rows.enrol(
            course, user_id, method, STUDENT_ROLE_ID, start, end, enrolled_at
        )
        return LearnerCourse(
            user_id=user_id,
            course_id=course.id,
            enrol_method=method,
            trajectory=design.trajectory,
            last_active_week=last_week,
            engagement=design.engagement,
            ability=design.ability,
            persona=design.persona,
            enrolled_at=enrolled_at,
            first_week=first_week,
            ue_id=ue_id,
            is_mobile_user=bool(rng.random() < 0.2),
            enrol_start=start,
            enrol_end=end,
            ra_id=ra_id,
        )


def programme_stage(code: str) -> tuple[str, int] | None:
    """The programme a course code belongs to and its place in it (0 first)."""
    for programme, courses in PROGRAMME_COURSES.items():
        for stage, (course_code, _name) in enumerate(courses):
            if course_code == code:
                return programme, stage
    return None
