"""Who takes which course, and how each learner-course is designed to go.

Learners join the site before their first term; later terms take learners
who passed the previous course of their programme, returning learners and
new ones; the self-paced course takes learners at any time. Each enrolment
gets its method (manual, self, fee), window and the learner-course's design
(personas.py), returned as parallel arrays, one entry per learner-course.
"""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK, DemoConfig
from moodle_analytics.demo.site import (
    PROGRAMME_COURSES,
    STUDENT_ROLE_ID,
    Course,
    SiteRows,
    _sigmoid,
)


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
        rng = self.rng
        config = self.config
        learner_ability: dict[int, tuple[float, float]] = {}
        pool: list[int] = []
        records: list[tuple] = []
        passed: dict[int, set[str]] = {}

        def new_learner(created: int) -> int:
            user_id = self.rows.person(created)
            engagement = float(rng.normal())
            ability = 0.45 * engagement + float(np.sqrt(1 - 0.45**2) * rng.normal())
            learner_ability[user_id] = (engagement, ability)
            pool.append(user_id)
            return user_id

        term_courses = {
            t: [c for c in self.courses if c.term_index == t] for t in range(config.terms)
        }
        for term_index in range(config.terms):
            start = self.term_starts[term_index]
            taken_this_term: dict[int, int] = {}
            # Course sizes vary by up to a quarter, but a term holds as many
            # learner-courses as asked for, so --target-log-rows stays close.
            spread = rng.uniform(0.75, 1.25, len(term_courses[term_index]))
            spread /= spread.mean()
            for course, share in zip(term_courses[term_index], spread, strict=True):
                size = max(5, round(config.learners_per_course * share))
                chosen: list[int] = []
                chosen_set: set[int] = set()
                stage = self.programme_stage(course.code)
                if stage and stage[1] > 0:
                    previous_code = PROGRAMME_COURSES[stage[0]][stage[1] - 1][0]
                    continuing = [u for u in pool if previous_code in passed.get(u, set())
                                  and course.code not in passed.get(u, set())]  # fmt: skip
                    for user_id in continuing:
                        if len(chosen) < size * 0.7 and rng.random() < 0.65:
                            chosen.append(user_id)
                            chosen_set.add(user_id)
                returning = [
                    u for u in pool if u not in chosen_set and taken_this_term.get(u, 0) < 2
                ]
                rng.shuffle(returning)
                for user_id in returning:
                    if len(chosen) >= size * 0.5:
                        break
                    if rng.random() < 0.35:
                        chosen.append(user_id)
                while len(chosen) < size:
                    chosen.append(new_learner(start - int(rng.integers(3, 6)) * WEEK))
                for user_id in chosen:
                    taken_this_term[user_id] = taken_this_term.get(user_id, 0) + 1
                    record = self.design_learner_course(course, user_id, learner_ability[user_id])
                    records.append(record)
                    if record[3] == "steady" and record[6] > -0.35:
                        passed.setdefault(user_id, set()).add(course.code)
        # The self-paced course takes learners at any time.
        open_course = next(c for c in self.courses if c.is_self_paced)
        first, last = self.term_starts[0], config.as_of_epoch - 2 * WEEK
        joined_open: set[int] = set()
        for _ in range(max(5, config.learners_per_course // 2)):
            user_id = (
                pool[int(rng.integers(len(pool)))] if rng.random() < 0.5 else new_learner(first)
            )
            joined = int(rng.integers(first, last))
            if user_id in joined_open:  # drawn twice: one enrolment per course
                continue
            joined_open.add(user_id)
            records.append(
                self.design_learner_course(open_course, user_id, learner_ability[user_id], joined)
            )
        unique = records
        columns = [
            "user_id", "course_id", "enrol_method", "trajectory", "last_active_week",
            "engagement", "ability", "enrolled_at", "first_week", "ue_id", "is_mobile_user",
            "enrol_start", "enrol_end", "ra_id",
        ]  # fmt: skip
        arrays = {name: np.array([r[i] for r in unique]) for i, name in enumerate(columns)}
        self.learner_ability = learner_ability
        return arrays

    @staticmethod
    def programme_stage(code: str) -> tuple[str, int] | None:
        for programme, courses in PROGRAMME_COURSES.items():
            for stage, (course_code, _name) in enumerate(courses):
                if course_code == code:
                    return programme, stage
        return None

    def design_learner_course(
        self, course: Course, user_id: int, traits: tuple[float, float], joined: int | None = None
    ) -> tuple:
        rng = self.rng
        engagement = traits[0] + float(rng.normal(0, 0.45))
        ability = traits[1] + float(rng.normal(0, 0.35))
        weeks = course.weeks
        never = _sigmoid(-3.1 - 0.8 * engagement)
        fade = _sigmoid(-1.25 - 1.5 * engagement)
        draw = rng.random()
        if draw < never:
            trajectory, last_week = "never_start", 0
        elif draw < never + fade:
            trajectory = "fade_out"
            last_week = 1 + int(rng.beta(1.3, 2.0) * (int(0.7 * weeks) - 1))
        else:
            trajectory, last_week = "steady", weeks
        if course.is_self_paced:
            anchor = joined
            enrolled_at = joined
            first_week = 1
        else:
            anchor = course.start_at
            late = rng.random() < 0.1
            first_week = int(rng.integers(2, 4)) if late else 1
            enrolled_at = anchor + (first_week - 1) * WEEK - int(rng.integers(0, 10 * DAY))
            if trajectory == "fade_out" and last_week < first_week:
                last_week = first_week
        method_draw = rng.random()
        method = "self" if method_draw < 0.4 else ("fee" if method_draw < 0.65 else "manual")
        # Manual enrolments start at the course start; self and fee ones when
        # the learner enrols. Some sites set an end to the enrolment.
        start = anchor if method == "manual" else enrolled_at
        end = 0
        if not course.is_self_paced and rng.random() < 0.15:
            end = course.start_at + (weeks + 4) * WEEK
        elif rng.random() < 0.1:
            end = 2147483647
        ue_id, ra_id = self.rows.enrol(
            course, user_id, method, STUDENT_ROLE_ID, start, end, enrolled_at
        )
        return (
            user_id, course.id, method, trajectory, last_week, engagement, ability,
            enrolled_at, first_week, ue_id, bool(rng.random() < 0.2), start, end, ra_id,
        )  # fmt: skip
