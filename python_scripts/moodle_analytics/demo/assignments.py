"""Assignments: submissions on time, late, as drafts or not at all; grading and resubmission.

Learners active in an assignment's week hand it in (or open it and leave it);
the teacher grades the submissions a few days after the due date (and, in
courses that grade missing work, gives 0 to those who handed nothing in);
learners who are still around read their feedback; a failed attempt reopens
and an engaged learner resubmits. assign_submission, assign_grades, the
assignment's grade_grades row, activity completion and the log rows all come
from the same actions.
"""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.gradebook import CourseState, Gradebook
from moodle_analytics.demo.personas import persona_trait, quality_of
from moodle_analytics.demo.site import Activity, _md5, _sigmoid
from moodle_analytics.demo.world import HOUR, VIEW_EVENT, Part, World


class Assignments(Part):
    def __init__(self, world: World, gradebook: Gradebook):
        super().__init__(world)
        self.gradebook = gradebook
        self.drafts = {a["id"]: bool(a.get("submissiondrafts")) for a in world.tables["assign"]}

    def play(self, state: CourseState, assign: Activity, members, starts, level) -> None:
        """Submissions of learners active in the assignment's week, then their grading."""
        rng, lc = self.rng, self.lc
        submits, submit_time = self.plan_submissions(assign, members, starts, level)
        n = len(members)
        drafts_only = submits & (rng.random(n) < (0.12 if self.drafts[assign.instance_id] else 0))
        is_file = rng.random(n) < 0.5
        # Half of those who hand nothing in open the assignment and leave it.
        opened = ~submits & (rng.random(n) < 0.5)
        seen = starts + rng.integers(HOUR, WEEK - HOUR, n)
        opened &= seen < self.as_of
        rows = self.opened(state, assign, lc["user_id"][members[opened]], seen[opened])
        hand = np.flatnonzero(submits & (submit_time < self.as_of))
        lc_index, t = members[hand], submit_time[hand]
        users = lc["user_id"][lc_index]
        ids = self.ids.take("assign_submission", len(hand))
        status = np.where(drafts_only[hand], "draft", "submitted").astype(object)
        modified = self.log_submissions(state, assign, users, ids, t, status, is_file[hand])
        submitted = status == "submitted"
        if assign.completion == 2:
            done = np.flatnonzero(submitted)
            done = done[np.argsort(t[done], kind="stable")]
            column = np.full(len(done), state.cm_column[assign.cm_id])
            self.gradebook.complete_many(state, lc_index[done], column, t[done] + 2)
        submissions: list[tuple[int, int, float, list]] = []  # graded below
        quality = quality_of(lc, lc_index)
        for k in range(len(hand)):
            row = [int(ids[k]), assign.instance_id, int(users[k]), int(t[k]) - 90,
                   int(modified[k]), None, status[k], 0, 0, 1]  # fmt: skip
            rows.append(row)
            if submitted[k]:
                submissions.append((int(lc_index[k]), int(users[k]), float(quality[k]), row))
        self.grade_assignment(state, assign, submissions, members, rows)
        self.out["assign_submission"].extend(tuple(row) for row in rows)

    def plan_submissions(self, assign: Activity, members, starts, level):
        """Who hands the assignment in, and when (on time, or late while still active)."""
        rng, lc = self.rng, self.lc
        engagement = lc["engagement"][members]
        n = len(members)
        willing = _sigmoid(2.8 + 1.4 * engagement + persona_trait(lc, members, "hands_in"))
        submits = rng.random(n) < willing * np.minimum(level, 1) ** 0.3
        active_next = lc["last_active_week"][members] > assign.week
        late_odds = -1.7 - 0.9 * engagement + persona_trait(lc, members, "lateness")
        late = submits & active_next & (rng.random(n) < _sigmoid(late_odds))
        delay = np.where(
            late, rng.exponential(36 * HOUR, n) + 600, -rng.exponential(30 * HOUR, n) - 300
        ).astype(np.int64)
        submit_time = np.maximum(assign.due_at + delay, assign.opens_at + HOUR)
        if assign.cutoff_at:
            submit_time = np.minimum(submit_time, assign.cutoff_at - 60)
        # A fading learner's submission stays within their last active week.
        submit_time = np.minimum(
            submit_time, np.where(active_next, submit_time, starts + WEEK - HOUR)
        )
        # Work done before this week would have been logged already: it lands in it.
        return submits, np.maximum(submit_time, starts + HOUR)

    def opened(self, state: CourseState, assign: Activity, users, seen) -> list[list]:
        """Learners open the submission page and leave it: "new" submission rows."""
        ids = self.ids.take("assign_submission", len(seen))
        self.log.add(
            seen,
            users,
            "\\mod_assign\\event\\submission_status_viewed",
            state.course.id,
            assign.cm_id,
            assign.instance_id,
        )
        return [
            [int(i), assign.instance_id, int(u), int(at), int(at), None, "new", 0, 0, 1]
            for i, u, at in zip(ids, users, seen, strict=True)
        ]

    def log_submissions(self, state, assign, users, ids, t, status, is_file) -> np.ndarray:
        """Log rows of submissions handed in at `t`; returns their last modification times."""
        log, course_id, cm_id = self.log, state.course.id, assign.cm_id
        log.add(t - 420, users, "\\core\\event\\course_viewed", course_id)
        log.add(t - 400, users, VIEW_EVENT["assign"], course_id, cm_id, assign.instance_id)
        log.add(
            t - 380,
            users,
            "\\mod_assign\\event\\submission_form_viewed",
            course_id,
            cm_id,
            assign.instance_id,
        )
        self.log_submission_changes(state, assign, users, ids, t - 90, status, 0, is_file)
        uploaded = t[is_file] - 85
        log.add(
            uploaded,
            users[is_file],
            "\\assignsubmission_file\\event\\assessable_uploaded",
            course_id,
            cm_id,
            ids[is_file],
            other=np.array(
                [
                    log.encode_other(int(at), {"content": "", "pathnamehashes": [_md5(str(i))]})
                    for at, i in zip(uploaded, ids[is_file], strict=True)
                ],
                dtype=object,
            ),
        )
        submitted = status == "submitted"
        self.log_submitted(state, assign, users[submitted], ids[submitted], t[submitted])
        # Some learners edit their submission again before the due date.
        due = assign.due_at
        edits = submitted & (t < due - 2 * HOUR) & (self.rng.random(len(t)) < 0.12)
        modified = t.copy()
        modified[edits] = self.rng.integers(t[edits] + HOUR, due)
        edits &= modified < self.as_of
        modified[~edits] = t[~edits]
        self.log_submission_changes(
            state, assign, users[edits], ids[edits], modified[edits], status[edits], 0,
            is_file[edits], updated=True,
        )  # fmt: skip
        return modified

    def log_submission_changes(
        self, state, assign, users, ids, t, status, attempt, is_file, updated=False
    ) -> None:
        """submission_created (or _updated) rows of the file or online text plugin."""
        change = "updated" if updated else "created"
        for plugin, chosen in (("file", is_file), ("onlinetext", ~is_file)):
            self.log.add(
                t[chosen],
                users[chosen],
                f"\\assignsubmission_{plugin}\\event\\submission_{change}",
                state.course.id,
                assign.cm_id,
                ids[chosen],
                related=users[chosen],
                other=self.log.encode_many(
                    t[chosen],
                    {
                        "submissionid": ids[chosen],
                        "submissionattempt": attempt,
                        "submissionstatus": status[chosen],
                    },
                ),
            )

    def log_submitted(self, state, assign, users, ids, t) -> None:
        self.log.add(
            t,
            users,
            "\\mod_assign\\event\\assessable_submitted",
            state.course.id,
            assign.cm_id,
            ids,
            other=self.log.encode_many(t, {"submission_editable": True}),
        )

    # ------------------------------------------------------------- grading
    def grade_assignment(
        self, state: CourseState, assign: Activity, submissions, members, rows
    ) -> None:
        rng, log, course = self.rng, self.log, state.course
        teacher = course.teacher_ids[0]
        graded_at = assign.due_at + int(rng.integers(2 * DAY, 8 * DAY))
        if graded_at >= self.as_of:
            return
        log.add(
            graded_at,
            teacher,
            "\\mod_assign\\event\\grading_table_viewed",
            course.id,
            assign.cm_id,
            assign.instance_id,
        )
        to_grade = list(submissions)
        if course.grades_missing_as_zero:
            submitted = {lc_index for lc_index, *_ in submissions}
            for lc_index in members:
                if int(lc_index) not in submitted:
                    to_grade.append((int(lc_index), int(self.lc["user_id"][lc_index]), None, None))
        # Work in by then is graded in one sitting, later work a day after it arrives.
        times = [
            max(graded_at + 90 * (k + 1), submission[4] + DAY if submission else 0)
            for k, (*_, submission) in enumerate(to_grade)
        ]
        for t, (lc_index, user, quality, submission) in sorted(
            zip(times, to_grade, strict=True), key=lambda pair: pair[0]
        ):
            if t >= self.as_of:
                break
            grade = (
                0.0
                if quality is None
                else round(100 * float(_sigmoid(1.8 + 1.3 * quality + rng.normal(0, 0.6))), 2)
            )
            grade_id = self.grade_attempt(state, assign, lc_index, user, grade, t, teacher, 0)
            if submission is None:
                continue
            self.read_feedback(state, assign, lc_index, user, grade_id, t)
            if assign.max_attempts > 1 and assign.gradepass > 0 and grade < assign.gradepass:
                self.reopen(state, assign, lc_index, user, submission, t, teacher, rows)

    def read_feedback(self, state, assign, lc_index, user, grade_id, graded_at) -> None:
        """Learners who are still around read their feedback."""
        rng, course = self.rng, state.course
        lc_last = self.lc["last_active_week"][lc_index]
        read_at = graded_at + int(rng.exponential(1.5 * DAY)) + 600
        if (
            self.world.week_of(course, lc_index, read_at) <= lc_last
            and rng.random() < _sigmoid(0.3 + self.lc["engagement"][lc_index])
            and read_at < self.as_of
        ):
            self.log.add(
                read_at,
                user,
                "\\mod_assign\\event\\feedback_viewed",
                course.id,
                assign.cm_id,
                grade_id,
                related=user,
                other=self.log.encode_other(read_at, {"assignid": assign.instance_id}),
            )

    def grade_attempt(self, state, assign, lc_index, user, grade, t, teacher, attempt) -> int:
        log, course = self.log, state.course
        grade_id = self.ids.next("assign_grades")
        self.out["assign_grades"].add(
            grade_id, assign.instance_id, user, t, t, teacher, grade, 0.0, attempt
        )
        log.add(
            t,
            teacher,
            "\\mod_assign\\event\\submission_graded",
            course.id,
            assign.cm_id,
            grade_id,
            related=user,
        )
        row_id = self.gradebook.set_grade(state, lc_index, assign.grade_item_id, grade, teacher, t)
        log.add(
            t + 1,
            teacher,
            "\\core\\event\\user_graded",
            course.id,
            0,
            row_id,
            related=user,
            other=log.encode_other(
                t + 1, {"itemid": assign.grade_item_id, "overridden": False, "finalgrade": grade}
            ),
        )
        return grade_id

    def reopen(self, state, assign, lc_index, user, submission, graded_at, teacher, rows) -> None:
        """A failed attempt reopens; an engaged learner resubmits and is graded again."""
        rng, course = self.rng, state.course
        submission[9] = 0  # no longer the latest attempt
        attempt_id = self.ids.next("assign_submission")
        row = [
            attempt_id, assign.instance_id, user, graded_at, graded_at, None, "reopened", 0, 1, 1
        ]  # fmt: skip
        rows.append(row)
        resubmitted_at = graded_at + int(rng.integers(DAY, 5 * DAY))
        still_active = (
            self.world.week_of(course, lc_index, resubmitted_at)
            <= self.lc["last_active_week"][lc_index]
        )
        if (
            not still_active
            or resubmitted_at >= self.as_of
            or rng.random() > _sigmoid(0.5 + self.lc["engagement"][lc_index])
        ):
            return
        row[6], row[4] = "submitted", resubmitted_at
        user_, id_ = np.array([user]), np.array([attempt_id])
        status, is_file = np.array(["submitted"], dtype=object), np.ones(1, dtype=bool)
        self.log_submission_changes(
            state, assign, user_, id_, np.array([resubmitted_at - 60]), status, 1, is_file, True
        )
        self.log_submitted(state, assign, user_, id_, np.array([resubmitted_at]))
        regraded_at = resubmitted_at + int(rng.integers(DAY, 4 * DAY))
        if regraded_at < self.as_of:
            quality = float(quality_of(self.lc, lc_index))
            grade = round(100 * float(_sigmoid(1.3 + 1.3 * quality + rng.normal(0, 0.5))), 2)
            self.grade_attempt(state, assign, lc_index, user, grade, regraded_at, teacher, 1)
