"""Grades and completion: what can still change while a course runs, and its closing.

Each course keeps compact per-learner arrays while it runs: grade_grades per
learner and grade item, course_modules_completion per learner and activity.
Quizzes, assignments and views update them (set_grade, complete_activity,
complete_many); when a learner's course is over, close_learners settles the
course total (mean of the items, missing work as zero) and course completion;
write_course then writes the course's grades, completions and forum
discussions and lets the arrays go, so memory does not grow with the number
of finished courses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from moodle_analytics.demo.config import DAY
from moodle_analytics.demo.logbuffer import CLI, NULL
from moodle_analytics.demo.site import ADMIN_USER_ID, Activity, Course
from moodle_analytics.demo.tables import arrow_columns
from moodle_analytics.demo.world import HOUR, MODULE_CODES, Part, World


@dataclass
class CourseState:
    course: Course
    learners: np.ndarray  # indices into the learner-course arrays
    cm_ids: np.ndarray
    cm_module: np.ndarray  # MODULE_CODES
    cm_instance: np.ndarray
    cm_completion: np.ndarray
    week_end_index: np.ndarray  # activities of sections <= w are cm_ids[:week_end_index[w]]
    cm_column: dict[int, int]
    item_ids: np.ndarray  # grade items: the activities', then the course total last
    item_max: np.ndarray
    item_due: np.ndarray  # due date of each grade item, 0 when none
    item_column: dict[int, int]
    news: Activity | None
    general: Activity
    # While the course runs (allocated by open, dropped by Gradebook.write_course):
    # course_modules_completion per learner (row: position in learners) and
    # activity (column: position in cm_ids), state -1 where there is no row;
    # grade_grades per learner and grade item, id 0 where there is no row.
    completion_state: np.ndarray | None = None
    completion_id: np.ndarray | None = None
    completion_time: np.ndarray | None = None
    grade: np.ndarray | None = None
    grade_id: np.ndarray | None = None
    grade_created: np.ndarray | None = None
    grade_modified: np.ndarray | None = None
    grade_modifier: np.ndarray | None = None
    grade_overridden: np.ndarray | None = None
    # forum_discussions rows: (id, forum cm, forum id, created, first post, user, name)
    discussions: list[tuple] = field(default_factory=list)
    last_post: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> (time, user)
    # discussions ordered by creation time, for picking one that exists at a moment
    created_sorted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    by_created: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    closed: np.ndarray | None = None  # learners whose course total and completion are done
    written: bool = False

    def open(self) -> None:
        """Per-learner grade and completion arrays, only while the course runs."""
        if self.completion_state is not None or self.written:
            return
        n, n_cm, n_items = len(self.learners), len(self.cm_ids), len(self.item_ids)
        self.completion_state = np.full((n, n_cm), -1, dtype=np.int8)
        self.completion_id = np.zeros((n, n_cm), dtype=np.int64)
        self.completion_time = np.zeros((n, n_cm), dtype=np.int64)
        self.grade = np.full((n, n_items), np.nan)
        self.grade_id = np.zeros((n, n_items), dtype=np.int64)
        self.grade_created = np.zeros((n, n_items), dtype=np.int64)
        self.grade_modified = np.zeros((n, n_items), dtype=np.int64)
        self.grade_modifier = np.full((n, n_items), NULL, dtype=np.int64)
        self.grade_overridden = np.zeros((n, n_items), dtype=np.int64)

    def release(self) -> None:
        """Drop what only a running course needs (its rows are written)."""
        self.completion_state = self.completion_id = self.completion_time = None
        self.grade = self.grade_id = self.grade_created = self.grade_modified = None
        self.grade_modifier = self.grade_overridden = None
        self.discussions, self.last_post = [], {}
        self.created_sorted = self.by_created = np.zeros(0, dtype=np.int64)


def course_state(world: World, course: Course) -> CourseState:
    """A course's activities as arrays, and its learners' positions in the world."""
    activities = sorted(course.activities, key=lambda a: (a.week, a.cm_id))
    weeks = np.array([a.week for a in activities])
    learners = np.flatnonzero(world.lc["course_id"] == course.id)
    world.lc_pos[learners] = np.arange(len(learners))
    graded = [a for a in activities if a.grade_item_id]
    return CourseState(
        course=course,
        learners=learners,
        cm_ids=np.array([a.cm_id for a in activities], dtype=np.int64),
        cm_module=np.array([MODULE_CODES[a.module] for a in activities]),
        cm_instance=np.array([a.instance_id for a in activities], dtype=np.int64),
        cm_completion=np.array([a.completion for a in activities]),
        week_end_index=np.searchsorted(weeks, np.arange(course.weeks + 2), side="right"),
        cm_column={a.cm_id: i for i, a in enumerate(activities)},
        item_ids=np.array(
            [a.grade_item_id for a in graded] + [course.course_grade_item_id], dtype=np.int64
        ),
        item_max=np.array([a.grademax for a in graded] + [course.course_grademax]),
        item_due=np.array([a.due_at for a in graded] + [0], dtype=np.int64),
        item_column={a.grade_item_id: i for i, a in enumerate(graded)},
        news=next((a for a in activities if a.forum_type == "news"), None),
        general=next(a for a in activities if a.forum_type == "general"),
        closed=np.zeros(len(learners), dtype=bool),
    )


class Gradebook(Part):
    def __init__(self, world: World):
        super().__init__(world)
        self.completion_criteria: dict[int, list[int]] = {}
        for row in world.tables.get("course_completion_criteria", []):
            if row["criteriatype"] == 4:
                self.completion_criteria.setdefault(row["course"], []).append(row["moduleinstance"])

    # ------------------------------------------------------- while running
    def set_grade(
        self, state: CourseState, lc_index: int, item_id: int, grade: float, modifier, time: int
    ) -> int:
        """grade_grades of a learner and item: created on the first grade, then updated."""
        position, column = int(self.world.lc_pos[lc_index]), state.item_column[item_id]
        row_id = int(state.grade_id[position, column])
        if not row_id:
            row_id = self.ids.next("grade_grades")
            state.grade_id[position, column] = row_id
            state.grade_created[position, column] = time
        state.grade[position, column] = grade
        state.grade_modifier[position, column] = NULL if modifier is None else modifier
        state.grade_modified[position, column] = time
        return row_id

    def complete_many(self, state: CourseState, lc_index, column, time) -> None:
        """First completion (state 1) of activities by learners, in time order."""
        keep = time < self.as_of
        lc_index, column, time = lc_index[keep], column[keep], time[keep]
        if not len(time):
            return
        position = self.world.lc_pos[lc_index]
        ids = self.ids.take("course_modules_completion", len(time))
        state.completion_state[position, column] = 1
        state.completion_id[position, column] = ids
        state.completion_time[position, column] = time
        user = self.lc["user_id"][lc_index]
        self.log.add(
            time,
            user,
            "\\core\\event\\course_module_completion_updated",
            state.course.id,
            state.cm_ids[column],
            ids,
            related=user,
            other=self.log.encode_many(
                time, {"relateduserid": user, "overrideby": None, "completionstate": 1}
            ),
        )

    def complete_activity(
        self, state: CourseState, lc_index: int, cm_id: int, time: int, value: int
    ) -> None:
        """A learner's completion of one activity set to `value` (1 done, 2 pass, 3 fail)."""
        position, column = int(self.world.lc_pos[lc_index]), state.cm_column[cm_id]
        previous = state.completion_state[position, column]
        if previous == value or time >= self.as_of:
            return
        row_id = int(state.completion_id[position, column])
        if previous < 0:
            row_id = self.ids.next("course_modules_completion")
            state.completion_id[position, column] = row_id
        state.completion_state[position, column] = value
        state.completion_time[position, column] = time
        user = int(self.lc["user_id"][lc_index])
        self.log.add(
            time,
            user,
            "\\core\\event\\course_module_completion_updated",
            state.course.id,
            cm_id,
            row_id,
            related=user,
            other=self.log.encode_other(
                time, {"relateduserid": user, "overrideby": None, "completionstate": value}
            ),
        )

    # ------------------------------------------------------------- closing
    def close_learners(
        self, state: CourseState, positions: np.ndarray, close_time: int, is_over: bool = True
    ) -> None:
        """Course totals and course completion of learners, when their course is over
        (is_over) or as they stand at the snapshot of a course still running.

        Cron settles them after the close: a completion is at least an hour later.
        """
        positions = positions[~state.closed[positions]]
        if not len(positions):
            return
        state.open()
        state.closed[positions] = True
        course = state.course
        lc_index = state.learners[positions]
        self.course_totals(state, positions, close_time, is_over)
        self.world.lc_total[lc_index] = state.grade[positions, len(state.item_ids) - 1]
        if course.has_completion:
            users = self.lc["user_id"][lc_index]
            self.course_completions(state, positions, lc_index, users, close_time)

    def course_totals(
        self, state: CourseState, positions: np.ndarray, close_time: int, is_over: bool
    ) -> None:
        """Course total: mean of the items' normalised grades ("mean of grades").

        Empty grades count as zero (the category's aggregateonlygraded = 0): of
        every item once the course is over for the learner, of the items due by
        then at the snapshot of a running course (later ones are not yet given).
        A learner with no grade at all has no course total.
        """
        course, rng = state.course, self.rng
        shares = state.grade[positions, :-1] / state.item_max[:-1]
        graded = ~np.isnan(shares)
        due = state.item_due[:-1]
        counted = graded | is_over | ((due > 0) & (due <= close_time))
        count = counted.sum(axis=1)
        has_total = graded.any(axis=1)
        mean = np.where(has_total, np.nansum(shares, axis=1) / np.maximum(count, 1), np.nan)
        final = np.round(mean * course.course_grademax, 5)
        total_time = np.where(graded, state.grade_modified[positions, :-1], 0).max(
            axis=1, initial=0
        )
        total = len(state.item_ids) - 1
        rows = positions[has_total]
        state.grade_id[rows, total] = self.ids.take("grade_grades", len(rows))
        state.grade_created[rows, total] = total_time[has_total]
        state.grade_modified[rows, total] = total_time[has_total]
        # Teachers override a few course totals by hand.
        override = rng.random(len(rows)) < 0.02
        final_total = final[has_total]
        final_total = np.where(
            override,
            np.round(np.minimum(course.course_grademax, final_total * 1.08), 5),
            final_total,
        )
        state.grade[rows, total] = final_total
        state.grade_overridden[rows, total] = np.where(override, total_time[has_total] + DAY, 0)

    def course_completions(self, state, positions, lc_index, users, close_time) -> None:
        course, log = state.course, self.log
        columns = [state.cm_column[cm] for cm in self.completion_criteria.get(course.id, [])]
        done = np.isin(state.completion_state[positions][:, columns], (1, 2)).all(axis=1)
        done_at = state.completion_time[positions][:, columns].max(axis=1, initial=0)
        total = len(state.item_ids) - 1
        total_grade = state.grade[positions, total]
        complete = done & ~np.isnan(total_grade) & (total_grade >= course.course_gradepass)
        completed_at = np.maximum(done_at, state.grade_modified[positions, total]) + HOUR
        completed_at = np.maximum(completed_at, max(course.end_at, close_time) + HOUR)
        complete &= completed_at < self.as_of
        ids = self.ids.take("course_completions", len(positions))
        first = self.world.lc_first_activity[lc_index]
        started = np.where(first < self.as_of, first, 0)
        enrolled = self.lc["enrolled_at"][lc_index]
        self.out["course_completions"].extend(
            (int(i), int(u), course.id, int(e), int(s), int(c) if ok else None, 0)
            for i, u, e, s, c, ok in zip(
                ids, users, enrolled, started, completed_at, complete, strict=True
            )
        )
        log.add(
            completed_at[complete],
            ADMIN_USER_ID,
            "\\core\\event\\course_completed",
            course.id,
            objectid=ids[complete],
            related=users[complete],
            origin=CLI,
            other=log.encode_many(completed_at[complete], {"relateduserid": users[complete]}),
        )

    # ------------------------------------------------------------- writing
    def write_course(self, state: CourseState) -> None:
        """Write a closed course's grades, completions and discussions, and let them go."""
        if state.written:
            return
        state.open()
        state.written = True
        course = state.course
        if course.has_completion:
            # The course completes on its activities and on the course grade.
            self.world.tables["course_completion_criteria"].append(
                {
                    "id": self.ids.next("course_completion_criteria"),
                    "course": course.id,
                    "criteriatype": 6,
                    "gradepass": course.course_gradepass,
                }
            )
        users = self.lc["user_id"][state.learners]
        self.write_completions(state, users)
        self.write_grades(state, users)
        self.write_discussions(state)
        # Only what the ground truth and later weeks need stays.
        state.release()

    def write_completions(self, state: CourseState, users: np.ndarray) -> None:
        rows, columns = np.nonzero(state.completion_state >= 0)
        if not len(rows):
            return
        self.world.write_table(
            "course_modules_completion",
            arrow_columns(
                "course_modules_completion",
                ("id", "coursemoduleid", "userid", "completionstate", "timemodified"),
                (
                    state.completion_id[rows, columns],
                    state.cm_ids[columns],
                    users[rows],
                    state.completion_state[rows, columns].astype(np.int64),
                    state.completion_time[rows, columns],
                ),
            ),
        )

    def write_grades(self, state: CourseState, users: np.ndarray) -> None:
        rows, columns = np.nonzero(state.grade_id > 0)
        if not len(rows):
            return
        is_total = columns == len(state.item_ids) - 1
        modifier = state.grade_modifier[rows, columns]
        grade = state.grade[rows, columns]
        self.world.write_table(
            "grade_grades",
            arrow_columns(
                "grade_grades",
                (
                    "id", "itemid", "userid", "rawgrade", "rawgrademax", "rawgrademin",
                    "usermodified", "finalgrade", "overridden", "timecreated",
                    "timemodified", "aggregationstatus",
                ),
                (
                    state.grade_id[rows, columns],
                    state.item_ids[columns],
                    users[rows],
                    np.where(is_total, np.nan, grade),
                    state.item_max[columns],
                    np.zeros(len(rows)),
                    pa.array(modifier, mask=modifier == NULL, type=pa.int64()),
                    grade,
                    state.grade_overridden[rows, columns],
                    state.grade_created[rows, columns],
                    state.grade_modified[rows, columns],
                    np.where(is_total, "unknown", "used").astype(object),
                ),
            ),
        )  # fmt: skip

    def write_discussions(self, state: CourseState) -> None:
        if not state.discussions:
            return
        discussions = []
        for discussion_id, _cm, forum_id, created, first_post, user, name in state.discussions:
            modified, modified_by = state.last_post.get(discussion_id, (created, user))
            discussions.append(
                (discussion_id, state.course.id, forum_id, name, first_post, user, -1, 0,
                 modified, modified_by, 0, 0, 0, 0)
            )  # fmt: skip
        self.world.write_table(
            "forum_discussions",
            arrow_columns(
                "forum_discussions",
                (
                    "id", "course", "forum", "name", "firstpost", "userid", "groupid",
                    "assessed", "timemodified", "usermodified", "timestart", "timeend",
                    "pinned", "timelocked",
                ),
                list(zip(*discussions, strict=True)),
            ),
        )  # fmt: skip
