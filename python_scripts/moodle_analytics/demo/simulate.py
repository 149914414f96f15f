"""Play the site week by week: sessions, submissions, quizzes, forums, grading.

Each learner-course follows its designed trajectory (steady, fade_out,
never_start) with intensity set by the learner's latent engagement; grades
follow latent ability. Activity tables (assign_submission, quiz_attempts,
forum_posts, grades, completions) are filled from the same actions as the log
rows that point at them, so objectid always resolves.

Memory stays flat however large the site: rows that cannot change any more
are written as they happen (in chunks), and what can still change (grades,
activity completion, forum discussions) lives in compact per-course arrays
until the course is over, when it is written and dropped. Every log row is
added no earlier than the week being played, so ids follow time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.logbuffer import CLI, NULL, RESTORE, WEB, WS, LogBuffer
from moodle_analytics.demo.site import (
    ADMIN_USER_ID,
    GUEST_USER_ID,
    NON_EDITING_TEACHER_ROLE_ID,
    SITE_COURSE_ID,
    STUDENT_ROLE_ID,
    Activity,
    Course,
    Site,
    _md5,
    _sigmoid,
)
from moodle_analytics.demo.tables import RowBuffer, arrow_columns
from moodle_analytics.event_catalogue import load_event_catalogue

HOUR = 3600
# When learners study: share of sessions starting in each UTC hour.
HOUR_WEIGHTS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.5, 3.5, 4, 4,
     3.5, 3.5, 4, 4, 4, 4, 4.5, 5, 5.5, 5, 4, 2.5]
)  # fmt: skip
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
DAY_WEIGHTS = np.array([1.25, 1.2, 1.15, 1.1, 0.9, 0.6, 0.8])
DAY_WEIGHTS = DAY_WEIGHTS / DAY_WEIGHTS.sum()
VIEW_EVENT = {
    "page": "\\mod_page\\event\\course_module_viewed",
    "resource": "\\mod_resource\\event\\course_module_viewed",
    "url": "\\mod_url\\event\\course_module_viewed",
    "assign": "\\mod_assign\\event\\course_module_viewed",
    "quiz": "\\mod_quiz\\event\\course_module_viewed",
    "forum": "\\mod_forum\\event\\course_module_viewed",
    "feedback": "\\mod_feedback\\event\\course_module_viewed",
}
MODULE_CODES = {name: i for i, name in enumerate(VIEW_EVENT)}
NO_END = (0, 2147483647)
NEVER = np.iinfo(np.int64).max

# Activity tables written while the simulation runs, in these column orders.
ACTIVITY_COLUMNS = {
    "quiz_attempts": (
        "id", "quiz", "userid", "attempt", "uniqueid", "layout", "currentpage", "preview",
        "state", "timestart", "timefinish", "timemodified", "timemodifiedoffline",
        "timecheckstate", "sumgrades",
    ),
    "quiz_grades": ("id", "quiz", "userid", "grade", "timemodified"),
    "assign_submission": (
        "id", "assignment", "userid", "timecreated", "timemodified", "timestarted", "status",
        "groupid", "attemptnumber", "latest",
    ),
    "assign_grades": (
        "id", "assignment", "userid", "timecreated", "timemodified", "grader", "grade",
        "penalty", "attemptnumber",
    ),
    "forum_posts": (
        "id", "discussion", "parent", "userid", "created", "modified", "mailed", "subject",
        "message", "messageformat", "messagetrust", "attachment", "totalscore", "mailnow",
        "deleted", "privatereplyto", "wordcount", "charcount",
    ),
    "course_completions": (
        "id", "userid", "course", "timeenrolled", "timestarted", "timecompleted", "reaggregate",
    ),
}  # fmt: skip
POST_MESSAGE = f"<p>{'lorem ' * 5}</p>"


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
    item_column: dict[int, int]
    news: Activity | None
    general: Activity
    # While the course runs (allocated by open_course, dropped by write_course):
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


class Simulation:
    def __init__(
        self,
        site: Site,
        write_log: Callable[[pa.Table], None],
        write_table: Callable[[str, pa.Table], None],
        rng: np.random.Generator,
    ):
        self.site = site
        self.config = site.config
        self.rng = rng
        self.as_of = self.config.as_of_epoch
        self.catalogue = load_event_catalogue()
        self.lc = site.learner_courses
        self.n_lc = len(self.lc["user_id"])
        self.tables = site.tables
        self.frames = site.frames
        self.ids = site.ids
        self.write_table = write_table
        self.courses = {c.id: c for c in site.courses}
        users = self.frames["user"]
        for column in ("deleted", "suspended", "picture"):
            users[column] = 0
        self.usernames = np.empty(len(users) + 1, dtype=object)
        self.usernames[0] = ""
        self.usernames[1:] = users["username"].to_numpy(dtype=object)
        self.log = LogBuffer(
            self.catalogue,
            self.build_lookups(),
            write_log,
            site.config.term_starts()[1] if site.config.terms > 1 else 0,
            rng,
        )
        self.out = {
            table: RowBuffer(table, columns, write_table, chunk_rows=10_000)
            for table, columns in ACTIVITY_COLUMNS.items()
        }
        self.lc_first_activity = np.full(self.n_lc, NEVER, dtype=np.int64)
        self.lc_total = np.full(self.n_lc, np.nan)  # course total grade, once closed
        self.lc_pos = np.zeros(self.n_lc, dtype=np.int64)  # position among the course's learners
        self.states = {c.id: self.course_state(c) for c in site.courses}
        self.assign_drafts = {
            row["id"]: bool(row.get("submissiondrafts")) for row in self.tables["assign"]
        }
        self.completion_criteria: dict[int, list[int]] = {}
        for row in self.tables.get("course_completion_criteria", []):
            if row["criteriatype"] == 4:
                self.completion_criteria.setdefault(row["course"], []).append(row["moduleinstance"])
        ue = self.frames["user_enrolments"]
        self.ue_status = ue["status"].to_numpy(dtype=np.int64).copy()
        self.ue_modified = ue["timemodified"].to_numpy(dtype=np.int64).copy()
        self.lc_suspended_at = np.zeros(self.n_lc, dtype=np.int64)  # 0: never suspended
        self.deleted_at: dict[int, int] = {}
        self.question_usage = 0
        self.feedback_completed = 0

    # ------------------------------------------------------------- lookups
    def build_lookups(self) -> dict[str, np.ndarray]:
        contexts = self.frames["context"]
        max_user = len(self.frames["user"]) + 1
        max_course = max(self.courses) + 1
        max_cm = max(r["id"] for r in self.tables["course_modules"]) + 1
        lookups = {}
        for name, level, size in (
            ("user_context", 30, max_user),
            ("course_context", 50, max_course),
            ("cm_context", 70, max_cm),
        ):
            table = np.ones(size, dtype=np.int64)
            rows = contexts[contexts["contextlevel"] == level]
            table[rows["instanceid"].to_numpy()] = rows["id"].to_numpy()
            lookups[name] = table
        users = np.arange(max_user)
        lookups["home_ip"] = np.array(
            [f"203.0.113.{u % 250 + 1}" if u % 3 else f"198.51.100.{u % 250 + 1}" for u in users],
            dtype=object,
        )
        lookups["mobile_ip"] = np.array(
            [f"100.64.{u // 250 % 250}.{u % 250 + 1}" for u in users], dtype=object
        )
        return lookups

    def course_state(self, course: Course) -> CourseState:
        activities = sorted(course.activities, key=lambda a: (a.week, a.cm_id))
        weeks = np.array([a.week for a in activities])
        learners = np.flatnonzero(self.lc["course_id"] == course.id)
        self.lc_pos[learners] = np.arange(len(learners))
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
            item_column={a.grade_item_id: i for i, a in enumerate(graded)},
            news=next((a for a in activities if a.forum_type == "news"), None),
            general=next(a for a in activities if a.forum_type == "general"),
            closed=np.zeros(len(learners), dtype=bool),
        )

    @staticmethod
    def open_course(state: CourseState) -> None:
        """Per-learner grade and completion arrays, only while the course runs."""
        if state.completion_state is not None or state.written:
            return
        n, n_cm, n_items = len(state.learners), len(state.cm_ids), len(state.item_ids)
        state.completion_state = np.full((n, n_cm), -1, dtype=np.int8)
        state.completion_id = np.zeros((n, n_cm), dtype=np.int64)
        state.completion_time = np.zeros((n, n_cm), dtype=np.int64)
        state.grade = np.full((n, n_items), np.nan)
        state.grade_id = np.zeros((n, n_items), dtype=np.int64)
        state.grade_created = np.zeros((n, n_items), dtype=np.int64)
        state.grade_modified = np.zeros((n, n_items), dtype=np.int64)
        state.grade_modifier = np.full((n, n_items), NULL, dtype=np.int64)
        state.grade_overridden = np.zeros((n, n_items), dtype=np.int64)

    # ---------------------------------------------------------------- plan
    def run(self, progress=None) -> None:
        origin = self.site.site_created_at
        self.schedule_setup_events()
        self.plan_enrolment_changes()
        week_start = origin
        total_weeks = (self.as_of - origin) // WEEK + 1
        for _ in range(total_weeks):
            week_end = week_start + WEEK
            self.play_week(week_start, week_end)
            self.enrolment_changes(week_start, week_end)
            self.log.flush(min(week_end, self.as_of))
            if progress:
                progress(1, self.log.rows_written)
            week_start = week_end
        self.finish()
        self.log.discard_from(self.as_of)
        self.inject_anomalies()
        self.log.flush(NEVER)
        self.log.close()
        for buffer in self.out.values():
            buffer.flush()

    def play_week(self, week_start: int, week_end: int) -> None:
        for course in self.site.courses:
            state = self.states[course.id]
            if course.is_self_paced:
                joined = self.lc["enrolled_at"][state.learners]
                for week in range(1, course.weeks + 1):
                    starts = joined + (week - 1) * WEEK
                    now = (starts >= week_start) & (starts < week_end)
                    if now.any():
                        self.play_course_week(state, week, state.learners[now], starts[now])
                    if week == course.weeks and now.any():
                        # Their last week is played: Moodle's cron settles them after it.
                        self.close_learners(state, np.flatnonzero(now), week_end)
                self.staff_week(course, week_start)
                continue
            if course.start_at <= week_start < course.start_at + course.weeks * WEEK:
                week = int((week_start - course.start_at) // WEEK + 1)
                starts = np.full(len(state.learners), week_start, dtype=np.int64)
                self.play_course_week(state, week, state.learners, starts)
                self.staff_week(course, week_start)
                if week == course.weeks:
                    self.close_learners(state, np.arange(len(state.learners)), week_end)
                    self.write_course(state)
        self.site_week(week_start)

    # ------------------------------------------------------- learner weeks
    def activity_level(self, members: np.ndarray, week: int) -> np.ndarray:
        """How active each learner-course is in a course week (0 = not at all)."""
        trajectory = self.lc["trajectory"][members]
        last = self.lc["last_active_week"][members]
        first = self.lc["first_week"][members]
        noise = self.rng.gamma(6.0, 1 / 6.0, len(members))
        level = np.where(trajectory == "steady", noise, 0.0)
        fading = trajectory == "fade_out"
        ramp = np.clip(1.0 - 0.22 * (week - (last - 3)), 0.3, 1.0)
        level = np.where(fading & (week <= last), noise * ramp, level)
        level[(week < first) | (week > last)] = 0.0
        return level

    def play_course_week(
        self, state: CourseState, week: int, members: np.ndarray, starts: np.ndarray
    ) -> None:
        self.open_course(state)
        level = self.activity_level(members, week)
        active = level > 0
        members, starts, level = members[active], starts[active], level[active]
        if not len(members):
            return
        self.sessions(state, week, members, starts, level)
        for activity in state.course.activities:
            if activity.week != week:
                continue
            if activity.module == "quiz":
                self.quiz(state, activity, members, starts, level)
            elif activity.module == "assign":
                self.assignment(state, activity, members, starts, level)
            elif activity.module == "feedback":
                self.feedback(state, activity, members, starts, level)
        self.forum(state, week, members, starts, level)

    def sessions(
        self,
        state: CourseState,
        week: int,
        members: np.ndarray,
        starts: np.ndarray,
        level: np.ndarray,
    ) -> None:
        rng, lc, course = self.rng, self.lc, state.course
        engagement = lc["engagement"][members]
        rate = 2.2 * np.exp(0.45 * engagement) * level
        count = rng.poisson(rate)
        # Learners keep showing up in the last quarter unless designed to stop,
        # and a fading learner's last active week has at least one session.
        last_quarter = week > 0.75 * course.weeks
        count = np.where(
            last_quarter & (lc["trajectory"][members] == "steady"), np.maximum(count, 1), count
        )
        count = np.where(lc["last_active_week"][members] == week, np.maximum(count, 1), count)
        session_lc = np.repeat(members, count)
        if not len(session_lc):
            return
        week_from = np.repeat(starts, count)
        # A minute into the week at the earliest: the login before it is in the week too.
        session_start = (
            week_from
            + 60
            + rng.choice(7, len(session_lc), p=DAY_WEIGHTS) * DAY
            + rng.choice(24, len(session_lc), p=HOUR_WEIGHTS) * HOUR
            + rng.integers(0, HOUR - 60, len(session_lc))
        )
        user = lc["user_id"][session_lc]
        mobile = lc["is_mobile_user"][session_lc] & (rng.random(len(session_lc)) < 0.5)
        origin = np.where(mobile, WS, WEB)
        size = 1 + rng.poisson(3.4 * np.exp(0.25 * lc["engagement"][session_lc]))
        n_events = int(size.sum())
        gaps = np.minimum(rng.exponential(110.0, n_events) + 8, 1500).astype(np.int64)
        first_of_session = np.r_[0, np.cumsum(size)[:-1]]
        gaps[first_of_session] = 0
        offsets = np.cumsum(gaps)
        offsets -= np.repeat(offsets[first_of_session], size)
        # A session late on Sunday ends before the week does: weeks stay whole.
        length = offsets[first_of_session + size - 1]
        session_start = np.minimum(session_start, week_from + WEEK - 1 - length)
        time = np.repeat(session_start, size) + offsets
        # First event of a session is the course page; the rest open activities,
        # mostly this week's.
        available = state.week_end_index[week]
        current_from = state.week_end_index[week - 1] if week >= 1 else 0
        pick_current = (rng.random(n_events) < 0.55) & (available > current_from)
        index = np.where(
            pick_current,
            current_from + (rng.random(n_events) * max(available - current_from, 1)).astype(int),
            (rng.random(n_events) * available).astype(int),
        )
        index = np.minimum(index, available - 1)
        is_first = np.zeros(n_events, dtype=bool)
        is_first[first_of_session] = True
        grade_report = ~is_first & (rng.random(n_events) < 0.05)
        module_event = ~is_first & ~grade_report
        ev_user = np.repeat(user, size)
        ev_origin = np.repeat(origin, size)
        course_id = course.id
        log = self.log
        log.add(
            time[is_first],
            ev_user[is_first],
            "\\core\\event\\course_viewed",
            course_id,
            origin=ev_origin[is_first],
        )
        log.add(
            time[grade_report],
            ev_user[grade_report],
            "\\gradereport_user\\event\\grade_report_viewed",
            course_id,
            related=ev_user[grade_report],
            origin=ev_origin[grade_report],
        )
        cm = state.cm_ids[index]
        module = state.cm_module[index]
        instance = state.cm_instance[index]
        for name, code in MODULE_CODES.items():
            chosen = module_event & (module == code)
            if not chosen.any():
                continue
            event = VIEW_EVENT[name]
            if name == "assign":
                status = chosen & (rng.random(n_events) < 0.5)
                log.add(
                    time[status],
                    ev_user[status],
                    "\\mod_assign\\event\\submission_status_viewed",
                    course_id,
                    cm[status],
                    instance[status],
                    origin=ev_origin[status],
                )
                chosen &= ~status
            if name == "forum" and len(state.discussions):
                talk = chosen & (rng.random(n_events) < 0.45)
                self.discussion_views(state, time[talk], ev_user[talk], ev_origin[talk])
                chosen &= ~talk
            log.add(
                time[chosen],
                ev_user[chosen],
                event,
                course_id,
                cm[chosen],
                instance[chosen],
                origin=ev_origin[chosen],
            )
        # Some sessions on the web begin with a login and the dashboard.
        login = (origin == WEB) & (rng.random(len(session_lc)) < 0.45)
        login_users = user[login]
        login_at = session_start[login] - 45
        log.add(
            login_at,
            login_users,
            "\\core\\event\\user_loggedin",
            0,
            objectid=login_users,
            other=log.encode_many(login_at, {"username": self.usernames[login_users]}),
        )
        log.add(session_start[login] - 30, login_users, "\\core\\event\\dashboard_viewed", 0)
        np.minimum.at(self.lc_first_activity, session_lc, session_start)
        self.view_completions(
            state,
            np.repeat(session_lc, size)[module_event],
            index[module_event],
            time[module_event],
            module[module_event],
        )

    def discussion_views(self, state: CourseState, time, user, origin) -> None:
        """Learners read a discussion that exists by then."""
        existing = np.searchsorted(state.created_sorted, time, side="left")
        seen = existing > 0
        time, user, origin, existing = time[seen], user[seen], origin[seen], existing[seen]
        if not len(time):
            return
        pick = state.by_created[(self.rng.random(len(time)) * existing).astype(np.int64)]
        discussions = np.array([state.discussions[i][:2] for i in pick], dtype=np.int64)
        self.log.add(
            time,
            user,
            "\\mod_forum\\event\\discussion_viewed",
            state.course.id,
            discussions[:, 1],
            discussions[:, 0],
            origin=origin,
        )

    def view_completions(self, state, session_lc, column, time, module) -> None:
        """Viewing a page completes it; ticking a file completes it by hand."""
        if not state.course.has_completion or not len(column):
            return
        tracked = (module == MODULE_CODES["page"]) | (module == MODULE_CODES["resource"])
        order = np.argsort(time[tracked], kind="stable")
        session_lc = session_lc[tracked][order]
        column, time, module = column[tracked][order], time[tracked][order], module[tracked][order]
        position = self.lc_pos[session_lc]
        # The first view of each learner and activity, if not completed before.
        _, first = np.unique(position * len(state.cm_ids) + column, return_index=True)
        first = np.sort(first)
        first = first[state.completion_state[position[first], column[first]] < 0]
        ticked = (module[first] != MODULE_CODES["resource"]) | (self.rng.random(len(first)) < 0.5)
        first = first[ticked]
        self.complete_many(state, session_lc[first], column[first], time[first] + 2)

    def complete_many(self, state, lc_index, column, time) -> None:
        """First completion (state 1) of activities by learners, in time order."""
        keep = time < self.as_of
        lc_index, column, time = lc_index[keep], column[keep], time[keep]
        if not len(time):
            return
        position = self.lc_pos[lc_index]
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
        position, column = int(self.lc_pos[lc_index]), state.cm_column[cm_id]
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

    def set_grade(
        self, state: CourseState, lc_index: int, item_id: int, grade: float, modifier, time: int
    ) -> int:
        """grade_grades of a learner and item: created on the first grade, then updated."""
        position, column = int(self.lc_pos[lc_index]), state.item_column[item_id]
        row_id = int(state.grade_id[position, column])
        if not row_id:
            row_id = self.ids.next("grade_grades")
            state.grade_id[position, column] = row_id
            state.grade_created[position, column] = time
        state.grade[position, column] = grade
        state.grade_modifier[position, column] = NULL if modifier is None else modifier
        state.grade_modified[position, column] = time
        return row_id

    # ------------------------------------------------------------- quizzes
    def quiz(self, state: CourseState, quiz: Activity, members, starts, level) -> None:
        rng, lc = self.rng, self.lc
        engagement, ability = lc["engagement"][members], lc["ability"][members]
        attempts_first = rng.random(len(members)) < _sigmoid(1.0 + 1.3 * engagement) * np.sqrt(
            np.minimum(level, 1)
        )
        active_next = lc["last_active_week"][members] > quiz.week
        window_end = np.where(active_next, starts + WEEK + 2 * DAY, starts + WEEK - HOUR)
        if quiz.due_at:
            window_end = np.minimum(window_end, quiz.due_at)
        # Five minutes in at the earliest, so the view before it is in the week.
        opens = starts + 300
        plan = []  # (lc index, user, attempt number, start, duration, abandoned, score)
        for i in np.flatnonzero(attempts_first):
            lc_index = int(members[i])
            user = int(lc["user_id"][lc_index])
            span = max(int(window_end[i] - opens[i]), HOUR)
            start = int(opens[i] + span * rng.beta(2.0, 1.3))
            score = float(_sigmoid(0.4 + 1.2 * ability[i] + rng.normal(0, 0.7)))
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
        log, course_id, cm_id, quiz_id = self.log, state.course.id, quiz.cm_id, quiz.instance_id
        lc_index, user, number, start, duration, abandoned, score = (
            np.array(column) for column in zip(*plan, strict=True)
        )
        n = len(plan)
        attempt_ids = self.ids.take("quiz_attempts", n)
        usage = self.question_usage + 1 + np.arange(n)
        self.question_usage += n
        finish = start + duration
        finished = ~abandoned & (finish < self.as_of)
        grade = np.round(score * quiz.grademax, 5)
        # The quiz grade is the best finished attempt so far (grading method: highest).
        best = np.full(n, np.nan)
        best_at = np.zeros(n, dtype=np.int64)
        for k in range(n):
            if k and lc_index[k] == lc_index[k - 1]:
                best[k], best_at[k] = best[k - 1], best_at[k - 1]
            if finished[k] and not grade[k] < best[k]:  # also when best is still NaN
                best[k], best_at[k] = grade[k], finish[k]
        self.out["quiz_attempts"].extend(
            (
                int(attempt_ids[k]), quiz_id, int(user[k]), int(number[k]), int(usage[k]),
                "1,2,0,3,4,0,5,0", 0, 0,
                "finished" if finished[k] else ("abandoned" if abandoned[k] else "inprogress"),
                int(start[k]), int(finish[k]) if finished[k] else 0,
                int(finish[k]) if finished[k] else int(start[k]) + 120, 0,
                None if finished[k] else int(start[k]) + 1800,
                round(float(score[k]) * 20.0, 5) if finished[k] else None,
            )
            for k in range(n)
        )  # fmt: skip
        last_of_learner = np.r_[lc_index[1:] != lc_index[:-1], True] & ~np.isnan(best)
        self.out["quiz_grades"].extend(
            (self.ids.next("quiz_grades"), quiz_id, int(user[k]), float(best[k]), int(best_at[k]))
            for k in np.flatnonzero(last_of_learner)
        )
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
        abandoned_at = finish[abandoned] + 1800
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
        done = np.flatnonzero(finished)
        grade_ids = np.array(
            [
                self.set_grade(
                    state, int(lc_index[k]), quiz.grade_item_id, float(best[k]),
                    int(user[k]), int(finish[k]),
                )
                for k in done
            ],
            dtype=np.int64,
        )  # fmt: skip
        at, who, attempt = finish[done], user[done], attempt_ids[done]
        log.add(
            at - 30,
            who,
            "\\mod_quiz\\event\\attempt_summary_viewed",
            course_id,
            cm_id,
            attempt,
            related=who,
            other=log.encode_many(at - 30, {"quizid": quiz_id}),
        )
        log.add(
            at,
            who,
            "\\mod_quiz\\event\\attempt_submitted",
            course_id,
            cm_id,
            attempt,
            related=who,
            other=log.encode_many(at, {"submitterid": who, "quizid": quiz_id}),
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
            for k in done:
                passed = quiz.gradepass <= 0 or best[k] >= quiz.gradepass
                value = (2 if passed else 3) if quiz.gradepass > 0 else 1
                self.complete_activity(state, int(lc_index[k]), cm_id, int(finish[k]) + 2, value)

    # --------------------------------------------------------- assignments
    def assignment(self, state: CourseState, assign: Activity, members, starts, level) -> None:
        rng, lc, log, course = self.rng, self.lc, self.log, state.course
        engagement, ability = lc["engagement"][members], lc["ability"][members]
        n = len(members)
        submits = rng.random(n) < _sigmoid(1.5 + 1.4 * engagement) * np.sqrt(np.minimum(level, 1))
        active_next = lc["last_active_week"][members] > assign.week
        late = submits & active_next & (rng.random(n) < _sigmoid(-1.7 - 0.9 * engagement))
        due = assign.due_at
        delay = np.where(
            late, rng.exponential(36 * HOUR, n) + 600, -rng.exponential(30 * HOUR, n) - 300
        ).astype(np.int64)
        submit_time = np.maximum(due + delay, assign.opens_at + HOUR)
        if assign.cutoff_at:
            submit_time = np.minimum(submit_time, assign.cutoff_at - 60)
        # A fading learner's submission stays within their last active week.
        submit_time = np.minimum(
            submit_time, np.where(active_next, submit_time, starts + WEEK - HOUR)
        )
        # Work done before this week would have been logged already: it lands in it.
        submit_time = np.maximum(submit_time, starts + HOUR)
        drafts = 0.12 if self.assign_drafts[assign.instance_id] else 0.0
        drafts_only = submits & (rng.random(n) < drafts)
        plugin = np.where(rng.random(n) < 0.5, "file", "onlinetext")
        rows: list[list] = []  # assign_submission rows, final once graded
        submissions: list[tuple[int, int, float, list]] = []
        for i in range(n):
            lc_index = int(members[i])
            user = int(lc["user_id"][lc_index])
            if not submits[i]:
                if rng.random() < 0.5:  # opened the assignment but did not submit
                    seen = int(starts[i] + rng.integers(HOUR, WEEK - HOUR))
                    if seen < self.as_of:
                        rows.append(
                            [self.ids.next("assign_submission"), assign.instance_id, user,
                             seen, seen, None, "new", 0, 0, 1]
                        )  # fmt: skip
                        log.add(
                            seen,
                            user,
                            "\\mod_assign\\event\\submission_status_viewed",
                            course.id,
                            assign.cm_id,
                            assign.instance_id,
                        )
                continue
            t = int(submit_time[i])
            if t >= self.as_of:
                continue
            submission_id = self.ids.next("assign_submission")
            status = "draft" if drafts_only[i] else "submitted"
            modified = self.submit(state, assign, user, submission_id, t, status, plugin[i])
            if status == "submitted" and assign.completion == 2:
                self.complete_activity(state, lc_index, assign.cm_id, t + 2, 1)
            row = [submission_id, assign.instance_id, user, t - 90, modified, None, status, 0, 0, 1]
            rows.append(row)
            if status == "submitted":
                submissions.append((lc_index, user, float(ability[i]), row))
        self.grade_assignment(state, assign, submissions, members, rows)
        self.out["assign_submission"].extend(tuple(row) for row in rows)

    def submit(self, state, assign, user, submission_id, t, status, plugin) -> int:
        """Log rows of one submission; returns its last modification time."""
        rng, log, course_id = self.rng, self.log, state.course.id
        component = f"assignsubmission_{plugin}"
        log.add(t - 420, user, "\\core\\event\\course_viewed", course_id)
        log.add(t - 400, user, VIEW_EVENT["assign"], course_id, assign.cm_id, assign.instance_id)
        log.add(
            t - 380,
            user,
            "\\mod_assign\\event\\submission_form_viewed",
            course_id,
            assign.cm_id,
            assign.instance_id,
        )
        log.add(
            t - 90,
            user,
            f"\\{component}\\event\\submission_created",
            course_id,
            assign.cm_id,
            submission_id,
            related=user,
            other=log.encode_other(
                t - 90,
                {"submissionid": submission_id, "submissionattempt": 0, "submissionstatus": status},
            ),
        )
        if plugin == "file":
            log.add(
                t - 85,
                user,
                "\\assignsubmission_file\\event\\assessable_uploaded",
                course_id,
                assign.cm_id,
                submission_id,
                other=log.encode_other(
                    t - 85, {"content": "", "pathnamehashes": [_md5(str(submission_id))]}
                ),
            )
        if status != "submitted":
            return t
        log.add(
            t,
            user,
            "\\mod_assign\\event\\assessable_submitted",
            course_id,
            assign.cm_id,
            submission_id,
            other=log.encode_other(t, {"submission_editable": True}),
        )
        # Some learners edit their submission again before the due date.
        due = assign.due_at
        if t < due - 2 * HOUR and rng.random() < 0.12:
            modified = int(rng.integers(t + HOUR, due))
            if modified < self.as_of:
                log.add(
                    modified,
                    user,
                    f"\\{component}\\event\\submission_updated",
                    course_id,
                    assign.cm_id,
                    submission_id,
                    related=user,
                    other=log.encode_other(
                        modified,
                        {
                            "submissionid": submission_id,
                            "submissionattempt": 0,
                            "submissionstatus": "submitted",
                        },
                    ),
                )
                return modified
        return t

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
        for position, (lc_index, user, ability, submission) in enumerate(to_grade):
            t = graded_at + 90 * (position + 1)
            if t >= self.as_of:
                break
            grade = (
                0.0
                if ability is None
                else round(100 * float(_sigmoid(0.9 + 1.3 * ability + rng.normal(0, 0.6))), 2)
            )
            grade_id = self.grade_attempt(state, assign, lc_index, user, grade, t, teacher, 0)
            if submission is None:
                continue
            # Learners who are still around read their feedback.
            lc_last = self.lc["last_active_week"][lc_index]
            read_at = t + int(rng.exponential(1.5 * DAY)) + 600
            if (
                self.week_of(course, lc_index, read_at) <= lc_last
                and rng.random() < _sigmoid(0.3 + self.lc["engagement"][lc_index])
                and read_at < self.as_of
            ):
                log.add(
                    read_at,
                    user,
                    "\\mod_assign\\event\\feedback_viewed",
                    course.id,
                    assign.cm_id,
                    grade_id,
                    related=user,
                    other=log.encode_other(read_at, {"assignid": assign.instance_id}),
                )
            if assign.max_attempts > 1 and assign.gradepass > 0 and grade < assign.gradepass:
                self.reopen(state, assign, lc_index, user, submission, t, teacher, rows)

    def week_of(self, course: Course, lc_index: int, time: int) -> int:
        anchor = course.start_at or int(self.lc["enrolled_at"][lc_index])
        return int((time - anchor) // WEEK) + 1

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
        row_id = self.set_grade(state, lc_index, assign.grade_item_id, grade, teacher, t)
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
        rng, log, course = self.rng, self.log, state.course
        submission[9] = 0  # no longer the latest attempt
        attempt_id = self.ids.next("assign_submission")
        row = [
            attempt_id,
            assign.instance_id,
            user,
            graded_at,
            graded_at,
            None,
            "reopened",
            0,
            1,
            1,
        ]
        rows.append(row)
        resubmitted_at = graded_at + int(rng.integers(DAY, 5 * DAY))
        still_active = (
            self.week_of(course, lc_index, resubmitted_at) <= self.lc["last_active_week"][lc_index]
        )
        if (
            not still_active
            or resubmitted_at >= self.as_of
            or rng.random() > _sigmoid(0.5 + self.lc["engagement"][lc_index])
        ):
            return
        row[6], row[4] = "submitted", resubmitted_at
        log.add(
            resubmitted_at - 60,
            user,
            "\\assignsubmission_file\\event\\submission_updated",
            course.id,
            assign.cm_id,
            attempt_id,
            related=user,
            other=log.encode_other(
                resubmitted_at - 60,
                {
                    "submissionid": attempt_id,
                    "submissionattempt": 1,
                    "submissionstatus": "submitted",
                },
            ),
        )
        log.add(
            resubmitted_at,
            user,
            "\\mod_assign\\event\\assessable_submitted",
            course.id,
            assign.cm_id,
            attempt_id,
            other=log.encode_other(resubmitted_at, {"submission_editable": True}),
        )
        regraded_at = resubmitted_at + int(rng.integers(DAY, 4 * DAY))
        if regraded_at < self.as_of:
            ability = float(self.lc["ability"][lc_index])
            grade = round(100 * float(_sigmoid(1.3 + 1.3 * ability + rng.normal(0, 0.5))), 2)
            self.grade_attempt(state, assign, lc_index, user, grade, regraded_at, teacher, 1)

    # ------------------------------------------------------------- forums
    def forum(self, state: CourseState, week: int, members, starts, level) -> None:
        rng, lc, course = self.rng, self.lc, state.course
        teacher = course.teacher_ids[0]
        engagement = lc["engagement"][members]
        if not course.is_self_paced:
            posted = int(starts[0]) + 9 * HOUR + int(rng.integers(0, HOUR))
            self.new_discussions(
                state, state.news, np.array([teacher]), np.array([posted]),
                f"Week {week} announcements",
            )  # fmt: skip
        opens = np.flatnonzero(rng.random(len(members)) < _sigmoid(-2.6 + 0.9 * engagement) * level)
        opened_at = starts[opens] + rng.integers(HOUR, WEEK - 2 * HOUR, len(opens))
        self.new_discussions(
            state, state.general, lc["user_id"][members[opens]], opened_at,
            f"Question about week {week}",
        )  # fmt: skip
        # The teacher answers some questions; learners reply to recent discussions.
        answered = rng.random(len(opens)) < 0.35
        answer_at = opened_at[answered] + rng.integers(3 * HOUR, 2 * DAY, int(answered.sum()))
        replies = rng.poisson(_sigmoid(-1.2 + 1.0 * engagement) * level)
        reply_user = np.repeat(lc["user_id"][members], replies)
        reply_at = np.repeat(starts, replies) + rng.integers(
            2 * HOUR, WEEK - HOUR, int(replies.sum())
        )
        self.replies(
            state,
            np.r_[np.full(len(answer_at), teacher), reply_user],
            np.r_[answer_at, reply_at],
            np.r_[np.zeros(len(answer_at), bool), np.ones(len(reply_at), bool)],
        )

    def new_discussions(
        self, state: CourseState, forum: Activity, user: np.ndarray, t: np.ndarray, subject: str
    ) -> None:
        keep = t < self.as_of
        user, t = user[keep].astype(np.int64), t[keep].astype(np.int64)
        if not len(t):
            return
        log, course = self.log, state.course
        discussion_ids = self.ids.take("forum_discussions", len(t))
        post_ids = self.ids.take("forum_posts", len(t))
        for values in zip(discussion_ids, t, post_ids, user, strict=True):
            discussion_id, created, post_id, author = (int(v) for v in values)
            state.discussions.append(
                (discussion_id, forum.cm_id, forum.instance_id, created, post_id, author, subject)
            )
            self.out["forum_posts"].add(*self.post_row(post_id, discussion_id, 0, author, created))
        created = np.array([d[3] for d in state.discussions], dtype=np.int64)
        state.by_created = np.argsort(created, kind="stable")
        state.created_sorted = created[state.by_created]
        log.add(t - 120, user, VIEW_EVENT["forum"], course.id, forum.cm_id, forum.instance_id)
        log.add(
            t,
            user,
            "\\mod_forum\\event\\discussion_created",
            course.id,
            forum.cm_id,
            discussion_ids,
            other=log.encode_many(t, {"forumid": forum.instance_id}),
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\assessable_uploaded",
            course.id,
            forum.cm_id,
            post_ids,
            other=log.encode_many(
                t, {"discussionid": discussion_ids, "triggeredfrom": "forum_add_discussion"}
            ),
        )

    @staticmethod
    def post_row(post_id, discussion_id, parent, user, t, subject="Re: discussion") -> tuple:
        words = 40 + post_id % 160
        return (
            post_id, discussion_id, parent, user, t, t, 1, subject, POST_MESSAGE, 1, 0, "", 0,
            0, 0, 0, words, words * 6,
        )  # fmt: skip

    def replies(self, state: CourseState, user, t, recent_only) -> None:
        """Replies to a discussion at least ten minutes old (recent_only: under two weeks)."""
        created = state.created_sorted
        upto = np.searchsorted(created, t - 600, side="left")
        since = np.where(recent_only, np.searchsorted(created, t - 2 * WEEK, side="right"), 0)
        ok = (upto > since) & (t < self.as_of)
        user, t, upto, since = user[ok], t[ok], upto[ok], since[ok]
        if not len(t):
            return
        pick = state.by_created[since + (self.rng.random(len(t)) * (upto - since)).astype(int)]
        chosen = [state.discussions[i] for i in pick]
        discussion = np.array([d[0] for d in chosen], dtype=np.int64)
        forum_cm = np.array([d[1] for d in chosen], dtype=np.int64)
        forum_id = np.array([d[2] for d in chosen], dtype=np.int64)
        post_ids = self.ids.take("forum_posts", len(t))
        posts = self.out["forum_posts"]
        for post_id, d, author, when in zip(post_ids, chosen, user, t, strict=True):
            posts.add(*self.post_row(int(post_id), d[0], d[4], int(author), int(when)))
            latest = state.last_post.get(d[0])
            if latest is None or when >= latest[0]:
                state.last_post[d[0]] = (int(when), int(author))
        log, course_id = self.log, state.course.id
        log.add(
            t - 240, user, "\\mod_forum\\event\\discussion_viewed", course_id, forum_cm, discussion
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\post_created",
            course_id,
            forum_cm,
            post_ids,
            other=log.encode_many(
                t, {"discussionid": discussion, "forumid": forum_id, "forumtype": "general"}
            ),
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\assessable_uploaded",
            course_id,
            forum_cm,
            post_ids,
            other=log.encode_many(
                t, {"discussionid": discussion, "triggeredfrom": "forum_add_discussion_post"}
            ),
        )

    # ------------------------------------------------------------ feedback
    def feedback(self, state: CourseState, survey: Activity, members, starts, level) -> None:
        rng, lc, log, course = self.rng, self.lc, self.log, state.course
        answers = rng.random(len(members)) < _sigmoid(0.5 + lc["engagement"][members])
        for i in np.flatnonzero(answers):
            t = int(starts[i] + rng.integers(HOUR, WEEK - HOUR))
            if t >= self.as_of:
                continue
            user = int(lc["user_id"][members[i]])
            self.feedback_completed += 1
            log.add(
                t - 300, user, VIEW_EVENT["feedback"], course.id, survey.cm_id, survey.instance_id
            )
            # Moodle marks responses to an anonymous feedback as anonymous log rows.
            log.add(
                t,
                user,
                "\\mod_feedback\\event\\response_submitted",
                course.id,
                survey.cm_id,
                self.feedback_completed,
                related=user,
                anonymous=1,
                other=log.encode_other(
                    t, {"anonymous": 1, "cmid": survey.cm_id, "instanceid": survey.instance_id}
                ),
            )
            if survey.completion == 2:
                self.complete_activity(state, int(members[i]), survey.cm_id, t + 2, 1)

    # --------------------------------------------------------------- staff
    def staff_week(self, course: Course, week_start: int) -> None:
        rng, log = self.rng, self.log
        for teacher in course.teacher_ids + course.assistant_ids:
            visits = int(rng.integers(2, 7))
            times = week_start + 60 + np.sort(rng.integers(0, WEEK - 600, visits))
            times = times[times < self.as_of]
            if not len(times):
                continue
            log.add(
                times - 40,
                teacher,
                "\\core\\event\\user_loggedin",
                0,
                objectid=teacher,
                other=log.encode_many(times - 40, {"username": self.usernames[teacher]}),
            )
            log.add(times, teacher, "\\core\\event\\course_viewed", course.id)
            log.add(
                times[:1] + 300,
                teacher,
                "\\report_log\\event\\report_viewed",
                course.id,
                other=log.encode_many(
                    times[:1] + 300,
                    {
                        "groupid": 0,
                        "date": 0,
                        "modid": "",
                        "modaction": "",
                        "edulevel": -1,
                        "logreader": "logstore_standard",
                    },
                ),
            )
            log.add(
                times[-1:] + 200,
                teacher,
                "\\core\\event\\user_list_viewed",
                course.id,
                objectid=course.id,
                other=log.encode_many(
                    times[-1:] + 200,
                    {"courseshortname": course.shortname, "coursefullname": course.fullname},
                ),
            )
            log.add(
                times[-1:] + 400,
                teacher,
                "\\gradereport_grader\\event\\grade_report_viewed",
                course.id,
            )
        if course.guest_access:
            visits = int(rng.integers(2, 8))
            times = week_start + rng.integers(0, WEEK, visits)
            times = times[times < self.as_of]
            log.add(times, GUEST_USER_ID, "\\core\\event\\course_viewed", course.id)
            first_page = next(a for a in course.activities if a.module == "page")
            log.add(
                times + 60,
                GUEST_USER_ID,
                VIEW_EVENT["page"],
                course.id,
                first_page.cm_id,
                first_page.instance_id,
            )

    def site_week(self, week_start: int) -> None:
        rng, log = self.rng, self.log
        # Visitors who are not logged in: the front page and failed logins.
        times = week_start + rng.integers(0, WEEK, int(rng.integers(15, 40)))
        times = times[times < self.as_of]
        log.add(times, 0, "\\core\\event\\course_viewed", SITE_COURSE_ID)
        failed = week_start + rng.integers(0, WEEK, int(rng.integers(3, 12)))
        failed = failed[failed < self.as_of]
        usernames = self.usernames[rng.integers(1, len(self.usernames), len(failed))]
        log.add(
            failed,
            0,
            "\\core\\event\\user_login_failed",
            0,
            other=log.encode_many(failed, {"username": usernames, "reason": 3}),
        )
        admin_time = week_start + int(rng.integers(DAY, 4 * DAY))
        if admin_time < self.as_of:
            log.add(
                admin_time,
                ADMIN_USER_ID,
                "\\core\\event\\user_loggedin",
                0,
                objectid=ADMIN_USER_ID,
                other=log.encode_other(admin_time, {"username": "admin"}),
            )
            if rng.random() < 0.3:
                log.add(
                    admin_time + 120,
                    ADMIN_USER_ID,
                    "\\core\\event\\config_log_created",
                    0,
                    objectid=int(rng.integers(1, 5000)),
                    other=log.encode_other(
                        admin_time + 120,
                        {"name": "forcelogin", "oldvalue": "0", "value": "0", "plugin": None},
                    ),
                )
        self.logged_in_as(week_start)

    def logged_in_as(self, week_start: int) -> None:
        """Now and then the admin logs in as a learner to see what they see."""
        rng, lc = self.rng, self.lc
        if rng.random() > 0.25:
            return
        t = week_start + int(rng.integers(DAY, 5 * DAY))
        course_ids = [
            c.id
            for c in self.site.courses
            if c.start_at and c.start_at <= t < c.start_at + c.weeks * WEEK
        ]
        if not course_ids or t >= self.as_of:
            return
        course_id = course_ids[int(rng.integers(len(course_ids)))]
        members = self.states[course_id].learners
        # Moodle lets them into the course only while the learner's enrolment is active.
        end = lc["enrol_end"][members]
        suspended = self.lc_suspended_at[members]
        active = (
            (lc["enrol_start"][members] <= t)
            & (np.isin(end, NO_END) | (t + 60 < end))
            & ((suspended == 0) | (t + 60 < suspended))
        )
        members = members[active]
        if not len(members):
            return
        lc_index = int(members[int(rng.integers(len(members)))])
        learner = int(lc["user_id"][lc_index])
        log = self.log
        log.add(
            t,
            ADMIN_USER_ID,
            "\\core\\event\\user_loggedinas",
            0,
            objectid=learner,
            related=learner,
            other=log.encode_other(
                t, {"originalusername": "admin", "loggedinasusername": self.usernames[learner]}
            ),
        )
        log.add(t + 20, learner, "\\core\\event\\course_viewed", course_id, realuser=ADMIN_USER_ID)
        activity = self.courses[course_id].activities[3]
        log.add(
            t + 60,
            learner,
            VIEW_EVENT[activity.module],
            course_id,
            activity.cm_id,
            activity.instance_id,
            realuser=ADMIN_USER_ID,
        )

    # ------------------------------------------------------- setup events
    def schedule_setup_events(self) -> None:
        log, tables, frames = self.log, self.tables, self.frames
        users = frames["user"]
        created = users[users["id"] > ADMIN_USER_ID]
        ids = created["id"].to_numpy(dtype=np.int64)
        log.add(
            created["timecreated"].to_numpy(dtype=np.int64),
            ADMIN_USER_ID,
            "\\core\\event\\user_created",
            0,
            objectid=ids,
            related=ids,
        )
        course_created = {r["id"]: r["timecreated"] for r in tables["course"]}
        first_term_course = None
        for course in self.site.courses:
            created_at = course_created[course.id]
            log.add(
                created_at,
                ADMIN_USER_ID,
                "\\core\\event\\course_created",
                course.id,
                objectid=course.id,
                other=log.encode_other(
                    created_at, {"shortname": course.shortname, "fullname": course.fullname}
                ),
            )
            teacher = course.teacher_ids[0]
            for offset, activity in enumerate(course.activities):
                t = created_at + HOUR + 120 * offset
                log.add(
                    t,
                    teacher,
                    "\\core\\event\\course_module_created",
                    course.id,
                    activity.cm_id,
                    activity.cm_id,
                    other=log.encode_other(
                        t,
                        {
                            "modulename": activity.module,
                            "instanceid": activity.instance_id,
                            "name": activity.name,
                        },
                    ),
                )
            if course.term_index == 0 and first_term_course is None:
                first_term_course = course
            elif (
                first_term_course
                and course.term_index > 0
                and course.code == first_term_course.code
            ):
                self.restored(course, first_term_course, created_at, course_created)
        for event in tables.get("event", []):
            t = event["timemodified"]
            log.add(
                t,
                event["userid"],
                "\\core\\event\\calendar_event_created",
                event["courseid"],
                objectid=event["id"],
                other=log.encode_other(
                    t, {"repeatid": 0, "timestart": event["timestart"], "name": event["name"]}
                ),
            )
        # Every enrolment logs its creation and the role it gives.
        enrol = pd.DataFrame(tables["enrol"])[["id", "enrol", "courseid"]]
        enrol = enrol.rename(columns={"id": "enrolid"})
        course_context = pd.DataFrame(
            {
                "courseid": list(self.courses),
                "contextid": [c.context_id for c in self.courses.values()],
            }
        )
        ue = (
            frames["user_enrolments"]
            .merge(enrol, on="enrolid")
            .merge(course_context, on="courseid")
        )
        ra = frames["role_assignments"][["id", "roleid", "contextid", "userid"]]
        ra = ra.drop_duplicates(["userid", "contextid"], keep="last")
        ue = ue.merge(ra.rename(columns={"id": "ra_id"}), on=["userid", "contextid"], how="left")
        ue = ue.sort_values("id", kind="stable")
        t = ue["timecreated"].to_numpy(dtype=np.int64)
        user = ue["userid"].to_numpy(dtype=np.int64)
        actor = np.where(ue["enrol"].to_numpy() == "manual", ADMIN_USER_ID, user)
        course_ids = ue["courseid"].to_numpy(dtype=np.int64)
        log.add(
            t,
            actor,
            "\\core\\event\\user_enrolment_created",
            course_ids,
            objectid=ue["id"].to_numpy(dtype=np.int64),
            related=user,
            other=log.encode_many(t, {"enrol": ue["enrol"].to_numpy(dtype=object)}),
        )
        with_role = ue["ra_id"].notna().to_numpy()
        log.add(
            t[with_role],
            actor[with_role],
            "\\core\\event\\role_assigned",
            course_ids[with_role],
            objectid=ue["roleid"].to_numpy()[with_role].astype(np.int64),
            related=user[with_role],
            other=log.encode_many(
                t[with_role],
                {
                    "id": ue["ra_id"].to_numpy()[with_role].astype(np.int64),
                    "component": "",
                    "itemid": 0,
                },
            ),
        )

    def restored(self, course: Course, original: Course, created_at: int, course_created) -> None:
        """This offering was restored from a backup of the first one: Moodle logs the
        restore and copies the old course's log rows."""
        log = self.log
        log.add(
            created_at,
            ADMIN_USER_ID,
            "\\core\\event\\course_restored",
            course.id,
            objectid=course.id,
            other=log.encode_other(
                created_at,
                {
                    "type": "course",
                    "target": 2,
                    "mode": 10,
                    "operation": "restore",
                    "samesite": True,
                    "originalcourseid": original.id,
                },
            ),
        )
        old_created = course_created[original.id]
        for offset, activity in enumerate(course.activities[:10]):
            t = old_created + HOUR + 120 * offset
            log.add(
                t,
                course.teacher_ids[0],
                "\\core\\event\\course_module_created",
                course.id,
                activity.cm_id,
                activity.cm_id,
                origin=RESTORE,
                other=log.encode_other(
                    t,
                    {
                        "modulename": activity.module,
                        "instanceid": activity.instance_id,
                        "name": activity.name,
                    },
                ),
            )
        row = next(r for r in self.tables["course"] if r["id"] == course.id)
        row["originalcourseid"] = original.id

    # ------------------------------------------------- enrolment changes
    def plan_enrolment_changes(self) -> None:
        """Who gets suspended by a teacher and which accounts are deleted, and when."""
        rng, lc = self.rng, self.lc
        for lc_index in np.flatnonzero(lc["trajectory"] == "fade_out"):
            course = self.courses[int(lc["course_id"][lc_index])]
            if course.is_self_paced or rng.random() > 0.15:
                continue
            t = course.start_at + (int(lc["last_active_week"][lc_index]) + 2) * WEEK + 10 * HOUR
            if t < self.as_of:
                self.lc_suspended_at[lc_index] = t
        # Deleted users: Moodle keeps the user row (deleted=1, username and
        # email scrambled) and the log, and removes enrolments and roles.
        ends = np.array(
            [
                c.end_at or (c.start_at + c.weeks * WEEK if c.start_at else self.as_of)
                for c in (self.courses[int(i)] for i in lc["course_id"])
            ],
            dtype=np.int64,
        )
        finished = pd.Series(ends).groupby(lc["user_id"]).max()
        candidates = sorted(int(u) for u, end in finished.items() if end < self.as_of - 6 * WEEK)
        if candidates:
            chosen = rng.choice(candidates, max(1, len(candidates) // 50), replace=False)
            for user_id in sorted(int(u) for u in chosen):
                t = int(finished[user_id]) + int(rng.integers(2 * WEEK, 5 * WEEK))
                self.deleted_at[user_id] = min(t, self.as_of - DAY)

    def enrolment_changes(self, week_start: int, week_end: int) -> None:
        """Suspensions and account deletions that happen this week."""
        log, lc = self.log, self.lc
        due = np.flatnonzero(
            (self.lc_suspended_at >= week_start) & (self.lc_suspended_at < week_end)
        )
        for lc_index in due:
            course = self.courses[int(lc["course_id"][lc_index])]
            t = int(self.lc_suspended_at[lc_index])
            ue_id = int(lc["ue_id"][lc_index])
            self.ue_status[ue_id - 1], self.ue_modified[ue_id - 1] = 1, t
            log.add(
                t,
                course.teacher_ids[0],
                "\\core\\event\\user_enrolment_updated",
                course.id,
                objectid=ue_id,
                related=int(lc["user_id"][lc_index]),
                other=log.encode_other(t, {"enrol": str(lc["enrol_method"][lc_index])}),
            )
        for user_id, t in self.deleted_at.items():
            if week_start <= t < week_end:
                self.delete_user(user_id, t)

    def delete_user(self, user_id: int, t: int) -> None:
        """Moodle's delete_user(): unenrol from every course (role first), then the user."""
        log, lc = self.log, self.lc
        users = self.frames["user"]
        row = users.index[user_id - 1]
        username, email = users.at[row, "username"], users.at[row, "email"]
        for lc_index in np.flatnonzero(lc["user_id"] == user_id):
            course = self.courses[int(lc["course_id"][lc_index])]
            method = str(lc["enrol_method"][lc_index])
            ue_id = int(lc["ue_id"][lc_index])
            log.add(
                t,
                ADMIN_USER_ID,
                "\\core\\event\\role_unassigned",
                course.id,
                objectid=STUDENT_ROLE_ID,
                related=user_id,
                other=log.encode_other(
                    t, {"id": int(lc["ra_id"][lc_index]), "component": "", "itemid": 0}
                ),
            )
            log.add(
                t,
                ADMIN_USER_ID,
                "\\core\\event\\user_enrolment_deleted",
                course.id,
                objectid=ue_id,
                related=user_id,
                other=log.encode_other(
                    t,
                    {
                        "userenrolment": {
                            "id": ue_id,
                            "enrolid": course.enrol_ids[method],
                            "userid": user_id,
                            "courseid": course.id,
                            "lastenrol": True,
                        },
                        "enrol": method,
                    },
                ),
            )
        log.add(
            t,
            ADMIN_USER_ID,
            "\\core\\event\\user_deleted",
            0,
            objectid=user_id,
            related=user_id,
            other=log.encode_other(
                t,
                {
                    "username": username,
                    "email": email,
                    "idnumber": "",
                    "picture": 0,
                    "mnethostid": 1,
                },
            ),
        )
        users.loc[row, ["deleted", "username", "email", "idnumber", "picture", "timemodified"]] = [
            1,
            f"{email}.{t}",
            _md5(username),
            "",
            0,
            t,
        ]

    # ----------------------------------------------------- closing courses
    def close_learners(self, state: CourseState, positions: np.ndarray, close_time: int) -> None:
        """Course totals and course completion of learners whose course is over for them.

        Cron settles them after the close: a completion is at least an hour later.
        """
        positions = positions[~state.closed[positions]]
        if not len(positions):
            return
        self.open_course(state)
        state.closed[positions] = True
        course, rng = state.course, self.rng
        lc_index = state.learners[positions]
        users = self.lc["user_id"][lc_index]
        # Course total: mean of graded items' normalised grades ("mean of grades").
        shares = state.grade[positions, :-1] / state.item_max[:-1]
        graded = ~np.isnan(shares)
        count = graded.sum(axis=1)
        has_total = count > 0
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
        self.lc_total[lc_index] = state.grade[positions, total]
        if course.has_completion:
            self.course_completions(state, positions, lc_index, users, close_time)

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
        first = self.lc_first_activity[lc_index]
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

    def write_course(self, state: CourseState) -> None:
        """Write a closed course's grades, completions and discussions, and let them go."""
        if state.written:
            return
        self.open_course(state)
        state.written = True
        course = state.course
        if course.has_completion:
            # The course completes on its activities and on the course grade.
            self.tables["course_completion_criteria"].append(
                {
                    "id": self.ids.next("course_completion_criteria"),
                    "course": course.id,
                    "criteriatype": 6,
                    "gradepass": course.course_gradepass,
                }
            )
        users = self.lc["user_id"][state.learners]
        rows, columns = np.nonzero(state.completion_state >= 0)
        if len(rows):
            self.write_table(
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
        rows, columns = np.nonzero(state.grade_id > 0)
        if len(rows):
            is_total = columns == len(state.item_ids) - 1
            modifier = state.grade_modifier[rows, columns]
            grade = state.grade[rows, columns]
            self.write_table(
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
        if state.discussions:
            discussions = []
            for discussion_id, _cm, forum_id, created, first_post, user, name in state.discussions:
                modified, modified_by = state.last_post.get(discussion_id, (created, user))
                discussions.append(
                    (discussion_id, course.id, forum_id, name, first_post, user, -1, 0,
                     modified, modified_by, 0, 0, 0, 0)
                )  # fmt: skip
            self.write_table(
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
        # Only what the ground truth and later weeks need stays.
        state.completion_state = state.completion_id = state.completion_time = None
        state.grade = state.grade_id = state.grade_created = state.grade_modified = None
        state.grade_modifier = state.grade_overridden = None
        state.discussions, state.last_post = [], {}
        state.created_sorted = state.by_created = np.zeros(0, dtype=np.int64)

    # ------------------------------------------------------------- finish
    def finish(self) -> None:
        for state in self.states.values():
            if not state.written:
                self.close_learners(state, np.arange(len(state.learners)), self.as_of)
                self.write_course(state)
        self.settle_site_tables()

    def settle_site_tables(self) -> None:
        """Enrolment and user rows as they stand at the as-of moment."""
        rng, lc, frames = self.rng, self.lc, self.frames
        ue = frames["user_enrolments"]
        ue["status"], ue["timemodified"] = self.ue_status, self.ue_modified
        # A learner promoted to non-editing teacher in a running course keeps
        # the student role too; staff in the course are not learners.
        running = [c for c in self.site.courses if c.term_index == self.config.terms - 1]
        course = running[0]
        self.promoted_lc = int(self.states[course.id].learners[0])
        promoted = int(lc["user_id"][self.promoted_lc])
        ra = frames["role_assignments"]
        frames["role_assignments"] = pd.concat(
            [
                ra,
                pd.DataFrame(
                    [
                        {
                            "id": self.ids.next("role_assignments"),
                            "roleid": NON_EDITING_TEACHER_ROLE_ID,
                            "contextid": course.context_id,
                            "userid": promoted,
                            "timemodified": course.start_at + WEEK,
                            "modifierid": course.teacher_ids[0],
                            "component": "",
                            "itemid": 0,
                            "sortorder": 0,
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
        deleted = list(self.deleted_at)
        self.deleted_users = set(deleted)
        for table in ("user_enrolments", "role_assignments"):
            frame = frames[table]
            frames[table] = frame[~frame["userid"].isin(deleted)].reset_index(drop=True)
        # A few accounts are suspended site-wide but stay enrolled.
        learners = sorted(set(lc["user_id"].tolist()) - self.deleted_users)
        self.suspended_users = set(
            rng.choice(learners, max(1, len(learners) // 100), replace=False).tolist()
        )
        users = frames["user"]
        ids = users["id"].to_numpy(dtype=np.int64)
        users["suspended"] = np.isin(ids, list(self.suspended_users)).astype(np.int64)
        users["deleted"] = users["deleted"].fillna(0).astype(np.int64)
        users["picture"] = users["picture"].fillna(0).astype(np.int64)
        first, last = self.log.first_seen[ids], self.log.last_seen[ids]
        seen = last > 0
        for column, values in (
            ("firstaccess", first),
            ("lastaccess", last),
            ("lastlogin", last),
            ("currentlogin", last),
        ):
            users[column] = np.where(seen, values, 0)
        users["lastip"] = np.where(
            seen, [f"203.0.113.{u % 250 + 1}" for u in ids], users["lastip"].to_numpy(dtype=object)
        )

    # ---------------------------------------------------------- anomalies
    def inject_anomalies(self) -> None:
        """Rows a real log can hold and an analysis must not trust."""
        count = self.config.anomalies_per_kind
        if not count:
            return
        rng, lc, log = self.rng, self.lc, self.log
        candidates = np.flatnonzero(lc["trajectory"] == "steady")
        picks = rng.choice(candidates, 5 * count)
        for k, lc_index in enumerate(picks):
            user = int(lc["user_id"][lc_index])
            course = self.courses[int(lc["course_id"][lc_index])]
            anchor = course.start_at or int(lc["enrolled_at"][lc_index])
            kind = (
                "time_zero",
                "time_in_future",
                "unknown_user",
                "unknown_course",
                "outside_enrolment",
            )[k % 5]
            if kind == "time_zero":
                log.add(0, user, "\\core\\event\\course_viewed", course.id, anomaly=kind)
            elif kind == "time_in_future":
                log.add(
                    2145916800 + k, user, "\\core\\event\\course_viewed", course.id, anomaly=kind
                )
            elif kind == "unknown_user":
                log.add(
                    anchor + DAY,
                    990000 + k,
                    "\\core\\event\\course_viewed",
                    course.id,
                    anomaly=kind,
                )
            elif kind == "unknown_course":
                log.add(
                    anchor + DAY, user, "\\core\\event\\course_viewed", 990000 + k, anomaly=kind
                )
            else:
                log.add(
                    anchor - 40 * DAY, user, "\\core\\event\\course_viewed", course.id, anomaly=kind
                )
