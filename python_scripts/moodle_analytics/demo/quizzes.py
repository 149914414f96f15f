"""Quizzes: who attempts a quiz, how attempts go, and their grades.

A learner attempts a quiz in the week it belongs to (or up to its close),
retakes a low score while attempts remain, and now and then abandons an
attempt. quiz_attempts, quiz_grades (the best finished attempt), the quiz's
grade_grades row, activity completion and the log rows all come from the same
planned attempts, so they agree.
"""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.gradebook import CourseState, Gradebook
from moodle_analytics.demo.logbuffer import CLI
from moodle_analytics.demo.personas import persona_trait, quality_of
from moodle_analytics.demo.site import Activity, _sigmoid
from moodle_analytics.demo.world import HOUR, VIEW_EVENT, Part, World

# Columns of a planned attempt, in order.
PLAN = ("lc_index", "user", "number", "start", "duration", "abandoned", "score")


class Quizzes(Part):
    def __init__(self, world: World, gradebook: Gradebook):
        super().__init__(world)
        self.gradebook = gradebook
        self.question_usage = 0

    def play(self, state: CourseState, quiz: Activity, members, starts, level) -> None:
        """Attempts of learners active in the quiz's week (starting at `starts`)."""
        rng, lc = self.rng, self.lc
        engagement, quality = lc["engagement"][members], quality_of(lc, members)
        willing = _sigmoid(3.0 + 1.3 * engagement + persona_trait(lc, members, "attempts"))
        attempts_first = rng.random(len(members)) < willing * np.minimum(level, 1) ** 0.3
        active_next = lc["last_active_week"][members] > quiz.week
        window_end = np.where(active_next, starts + WEEK + 2 * DAY, starts + WEEK - HOUR)
        if quiz.due_at:
            window_end = np.minimum(window_end, quiz.due_at)
        # Five minutes in at the earliest, so the view before it is in the week.
        opens = starts + 300
        plan = []  # tuples of PLAN
        for i in np.flatnonzero(attempts_first):
            lc_index = int(members[i])
            user = int(lc["user_id"][lc_index])
            span = max(int(window_end[i] - opens[i]), HOUR)
            start = int(opens[i] + span * rng.beta(2.0, 1.3))
            score = float(_sigmoid(1.5 + 1.2 * quality[i] + rng.normal(0, 0.7)))
            number = 1
            while start < window_end[i] and start < self.as_of:
                duration = int(rng.integers(6, 28) * 60)
                abandoned = rng.random() < 0.03
                plan.append((lc_index, user, number, start, duration, abandoned, score))
                allowed = quiz.max_attempts == 0 or number < quiz.max_attempts
                if abandoned or score >= 0.6 or not allowed or number >= 3 or rng.random() < 0.5:
                    break
                number += 1
                start += duration + int(rng.integers(10 * 60, 2 * DAY))
                score = min(1.0, score + float(rng.uniform(0.05, 0.25)))
        if plan:
            self.play_attempts(state, quiz, plan)

    def play_attempts(self, state: CourseState, quiz: Activity, plan: list[tuple]) -> None:
        """quiz_attempts, grades, completion and log rows of the planned attempts.

        A learner's attempts are consecutive in `plan`, in order.
        """
        columns = zip(*plan, strict=True)
        attempts = {name: np.array(column) for name, column in zip(PLAN, columns, strict=True)}
        n = len(plan)
        attempts["id"] = self.ids.take("quiz_attempts", n)
        attempts["usage"] = self.question_usage + 1 + np.arange(n)
        self.question_usage += n
        attempts["finish"] = attempts["start"] + attempts["duration"]
        attempts["finished"] = ~attempts["abandoned"] & (attempts["finish"] < self.as_of)
        best, best_at = self.best_grades(quiz, attempts)
        self.write_attempts(quiz, attempts, best, best_at)
        self.log_attempts(state, quiz, attempts)
        self.log_finished(state, quiz, attempts, best)

    @staticmethod
    def best_grades(quiz: Activity, attempts: dict) -> tuple[np.ndarray, np.ndarray]:
        """The quiz grade after each attempt: the best finished one so far (method: highest)."""
        lc_index, finished, finish = attempts["lc_index"], attempts["finished"], attempts["finish"]
        grade = np.round(attempts["score"] * quiz.grademax, 5)
        n = len(grade)
        best = np.full(n, np.nan)
        best_at = np.zeros(n, dtype=np.int64)
        for k in range(n):
            if k and lc_index[k] == lc_index[k - 1]:
                best[k], best_at[k] = best[k - 1], best_at[k - 1]
            if finished[k] and not grade[k] < best[k]:  # also when best is still NaN
                best[k], best_at[k] = grade[k], finish[k]
        return best, best_at

    def write_attempts(self, quiz: Activity, attempts: dict, best, best_at) -> None:
        quiz_id = quiz.instance_id
        a = attempts
        finished, abandoned, start, finish = a["finished"], a["abandoned"], a["start"], a["finish"]
        self.out["quiz_attempts"].extend(
            (
                int(a["id"][k]), quiz_id, int(a["user"][k]), int(a["number"][k]),
                int(a["usage"][k]), "1,2,0,3,4,0,5,0", 0, 0,
                "finished" if finished[k] else ("abandoned" if abandoned[k] else "inprogress"),
                int(start[k]), int(finish[k]) if finished[k] else 0,
                int(finish[k]) if finished[k] else int(start[k]) + 120, 0,
                None if finished[k] else int(start[k]) + 1800,
                round(float(a["score"][k]) * 20.0, 5) if finished[k] else None,
            )
            for k in range(len(start))
        )  # fmt: skip
        lc_index = a["lc_index"]
        last_of_learner = np.r_[lc_index[1:] != lc_index[:-1], True] & ~np.isnan(best)
        self.out["quiz_grades"].extend(
            (
                self.ids.next("quiz_grades"), quiz_id, int(a["user"][k]), float(best[k]),
                int(best_at[k]),
            )
            for k in np.flatnonzero(last_of_learner)
        )  # fmt: skip

    def log_attempts(self, state: CourseState, quiz: Activity, attempts: dict) -> None:
        """The view, start, page views and abandonment of each attempt."""
        log, course_id, cm_id, quiz_id = self.log, state.course.id, quiz.cm_id, quiz.instance_id
        user, start, attempt_ids = attempts["user"], attempts["start"], attempts["id"]
        abandoned, duration = attempts["abandoned"], attempts["duration"]
        log.add(start - 60, user, VIEW_EVENT["quiz"], course_id, cm_id, quiz_id)
        log.add(
            start,
            user,
            "\\mod_quiz\\event\\attempt_started",
            course_id,
            cm_id,
            attempt_ids,
            related=user,
            other=log.encode_many(start, {"quizid": quiz_id}),
        )
        for page in (1, 2):
            viewed = start + page * duration // 3
            seen = viewed < self.as_of
            log.add(
                viewed[seen],
                user[seen],
                "\\mod_quiz\\event\\attempt_viewed",
                course_id,
                cm_id,
                attempt_ids[seen],
                related=user[seen],
                other=log.encode_many(viewed[seen], {"quizid": quiz_id, "page": page}),
            )
        abandoned_at = attempts["finish"][abandoned] + 1800
        log.add(
            abandoned_at,
            user[abandoned],
            "\\mod_quiz\\event\\attempt_abandoned",
            course_id,
            cm_id,
            attempt_ids[abandoned],
            related=user[abandoned],
            other=log.encode_many(abandoned_at, {"submitterid": None, "quizid": quiz_id}),
            origin=CLI,
        )

    def log_finished(self, state: CourseState, quiz: Activity, attempts: dict, best) -> None:
        """Grades, completion and the log rows of the finished attempts."""
        log, course_id, cm_id, quiz_id = self.log, state.course.id, quiz.cm_id, quiz.instance_id
        done = np.flatnonzero(attempts["finished"])
        lc_index, finish = attempts["lc_index"], attempts["finish"]
        at, who, attempt = finish[done], attempts["user"][done], attempts["id"][done]
        grade_ids = np.array(
            [
                self.gradebook.set_grade(
                    state, int(lc_index[k]), quiz.grade_item_id, float(best[k]),
                    int(attempts["user"][k]), int(finish[k]),
                )
                for k in done
            ],
            dtype=np.int64,
        )  # fmt: skip
        for offset, event, fields in (
            (-30, "\\mod_quiz\\event\\attempt_summary_viewed", {"quizid": quiz_id}),
            (0, "\\mod_quiz\\event\\attempt_submitted", {"submitterid": who, "quizid": quiz_id}),
        ):
            log.add(
                at + offset,
                who,
                event,
                course_id,
                cm_id,
                attempt,
                related=who,
                other=log.encode_many(at + offset, fields),
            )
        log.add(
            at + 1,
            who,
            "\\core\\event\\user_graded",
            course_id,
            0,
            grade_ids,
            related=who,
            other=log.encode_many(
                at + 1,
                {"itemid": quiz.grade_item_id, "overridden": False, "finalgrade": best[done]},
            ),
        )
        reviewed = self.rng.random(len(done)) < 0.6
        log.add(
            at[reviewed] + 45,
            who[reviewed],
            "\\mod_quiz\\event\\attempt_reviewed",
            course_id,
            cm_id,
            attempt[reviewed],
            related=who[reviewed],
            other=log.encode_many(at[reviewed] + 45, {"quizid": quiz_id}),
        )
        if quiz.completion == 2:
            self.complete(state, quiz, attempts, best, done)

    def complete(self, state: CourseState, quiz: Activity, attempts: dict, best, done) -> None:
        """Activity completion after each finished attempt: passed or failed with a pass grade."""
        for k in done:
            passed = quiz.gradepass <= 0 or best[k] >= quiz.gradepass
            value = (2 if passed else 3) if quiz.gradepass > 0 else 1
            self.gradebook.complete_activity(
                state,
                int(attempts["lc_index"][k]),
                quiz.cm_id,
                int(attempts["finish"][k]) + 2,
                value,
            )
