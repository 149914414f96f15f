"""Play the site week by week, from its creation to the as-of moment.

Each learner-course follows its designed plan (personas.py): how active the
learner is in each course week and how well they work. Every week each
running course plays its learners' sessions, the activities of that week
(quizzes, assignments, the survey) and its forums, then its staff; then the
site-wide traffic and the enrolment changes due that week; then the log is
flushed up to the week's end. Activity tables are filled from the same actions
as the log rows that point at them, so objectid always resolves.

Memory stays flat however large the site: rows that cannot change any more
are written as they happen (in chunks), and what can still change (grades,
activity completion, forum discussions) lives in compact per-course arrays
until the course is over (gradebook.py). Every log row is added no earlier
than the week being played, so ids follow time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from moodle_analytics.demo.accounts import Accounts
from moodle_analytics.demo.anomalies import Anomalies
from moodle_analytics.demo.assignments import Assignments
from moodle_analytics.demo.config import WEEK
from moodle_analytics.demo.forums import Forums
from moodle_analytics.demo.gradebook import CourseState, Gradebook
from moodle_analytics.demo.personas import activity_level
from moodle_analytics.demo.quizzes import Quizzes
from moodle_analytics.demo.sessions import Sessions
from moodle_analytics.demo.setup_events import SetupEvents
from moodle_analytics.demo.surveys import Surveys
from moodle_analytics.demo.traffic import Traffic
from moodle_analytics.demo.world import NEVER, World


class Simulation:
    def __init__(self, world: World):
        self.world = world
        self.gradebook = Gradebook(world)
        self.sessions = Sessions(world, self.gradebook)
        self.quizzes = Quizzes(world, self.gradebook)
        self.assignments = Assignments(world, self.gradebook)
        self.surveys = Surveys(world, self.gradebook)
        self.forums = Forums(world)
        self.traffic = Traffic(world)
        self.accounts = Accounts(world)

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Play every week; `progress(weeks, log rows written)` after each one."""
        world, log = self.world, self.world.log
        SetupEvents(world).play()
        self.accounts.plan_enrolment_changes()
        week_start = world.site.site_created_at
        total_weeks = (world.as_of - week_start) // WEEK + 1
        for _ in range(total_weeks):
            week_end = week_start + WEEK
            self.play_week(week_start, week_end)
            self.accounts.enrolment_changes(week_start, week_end)
            log.flush(min(week_end, world.as_of))
            if progress:
                progress(1, log.rows_written)
            week_start = week_end
        self.finish()
        log.discard_from(world.as_of)
        Anomalies(world).inject()
        log.flush(NEVER)
        log.close()
        for buffer in world.out.values():
            buffer.flush()

    def play_week(self, week_start: int, week_end: int) -> None:
        for course in self.world.site.courses:
            state = self.world.states[course.id]
            if course.is_self_paced:
                self.play_self_paced_week(state, week_start, week_end)
                self.traffic.course_week(course, week_start)
                continue
            if course.start_at <= week_start < course.start_at + course.weeks * WEEK:
                week = int((week_start - course.start_at) // WEEK + 1)
                starts = np.full(len(state.learners), week_start, dtype=np.int64)
                self.play_course_week(state, week, state.learners, starts)
                self.traffic.course_week(course, week_start, week == course.break_week)
                if week == course.weeks:
                    self.gradebook.close_learners(state, np.arange(len(state.learners)), week_end)
                    self.gradebook.write_course(state)
        self.traffic.site_week(week_start)

    def play_self_paced_week(self, state: CourseState, week_start: int, week_end: int) -> None:
        """Weeks of a self-paced course count from each learner's own enrolment."""
        course = state.course
        joined = self.world.lc["enrolled_at"][state.learners]
        for week in range(1, course.weeks + 1):
            starts = joined + (week - 1) * WEEK
            now = (starts >= week_start) & (starts < week_end)
            if now.any():
                self.play_course_week(state, week, state.learners[now], starts[now])
            if week == course.weeks and now.any():
                # Their last week is played: Moodle's cron settles them after it.
                self.gradebook.close_learners(state, np.flatnonzero(now), week_end)

    def play_course_week(
        self, state: CourseState, week: int, members: np.ndarray, starts: np.ndarray
    ) -> None:
        """One course week of the given learners, each week starting at `starts`."""
        state.open()
        level = activity_level(
            self.world.lc, members, week, self.world.rng, state.course.break_week
        )
        active = level > 0
        members, starts, level = members[active], starts[active], level[active]
        if not len(members):
            return
        self.sessions.play(state, week, members, starts, level)
        for activity in state.course.activities:
            if activity.week != week:
                continue
            if activity.module == "quiz":
                self.quizzes.play(state, activity, members, starts, level)
            elif activity.module == "assign":
                self.assignments.play(state, activity, members, starts, level)
            elif activity.module == "feedback":
                self.surveys.play(state, activity, members, starts, level)
        self.forums.play(state, week, members, starts, level)

    def finish(self) -> None:
        """Settle courses still running at the as-of moment, and the site's tables."""
        for state in self.world.states.values():
            if not state.written:
                everyone = np.arange(len(state.learners))
                self.gradebook.close_learners(state, everyone, self.world.as_of, is_over=False)
                self.gradebook.write_course(state)
        self.accounts.settle()
