"""Play the site week by week: sessions, submissions, quizzes, forums, grading.

Each learner-course follows its designed trajectory (steady, fade_out,
never_start) with intensity set by the learner's latent engagement; grades
follow latent ability. Activity tables (assign_submission, quiz_attempts,
forum_posts, grades, completions) are filled from the same actions as the log
rows that point at them, so objectid always resolves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.logbuffer import CLI, RESTORE, WEB, WS, LogBuffer
from moodle_analytics.demo.site import (
    ADMIN_USER_ID,
    GUEST_USER_ID,
    NON_EDITING_TEACHER_ROLE_ID,
    SITE_COURSE_ID,
    Activity,
    Course,
    Site,
    _md5,
    _sigmoid,
)
from moodle_analytics.event_catalogue import load_event_catalogue

HOUR = 3600
# When learners study: share of sessions starting in each UTC hour.
HOUR_WEIGHTS = np.array(
    [
        1,
        0.5,
        0.3,
        0.2,
        0.2,
        0.3,
        0.8,
        1.5,
        2.5,
        3.5,
        4,
        4,
        3.5,
        3.5,
        4,
        4,
        4,
        4,
        4.5,
        5,
        5.5,
        5,
        4,
        2.5,
    ]
)
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


@dataclass
class CourseState:
    course: Course
    learners: np.ndarray  # indices into the learner-course arrays
    cm_ids: np.ndarray
    cm_module: np.ndarray  # MODULE_CODES
    cm_instance: np.ndarray
    cm_completion: np.ndarray
    week_end_index: np.ndarray  # activities of sections <= w are cm_ids[:week_end_index[w]]
    completed: dict[tuple[int, int], int] = field(default_factory=dict)  # (lc, cm) -> state
    discussions: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    # (discussion id, forum cm, forum id, created at, first post id)


class Simulation:
    def __init__(self, site: Site, write_log: Callable, rng: np.random.Generator):
        self.site = site
        self.config = site.config
        self.rng = rng
        self.as_of = self.config.as_of_epoch
        self.catalogue = load_event_catalogue()
        self.lc = site.learner_courses
        self.n_lc = len(self.lc["user_id"])
        self.tables = site.tables
        self.ids = site.ids
        self.courses = {c.id: c for c in site.courses}
        self.log = LogBuffer(
            self.catalogue,
            self.build_lookups(),
            write_log,
            site.config.term_starts()[1] if site.config.terms > 1 else 0,
            rng,
        )
        self.lc_first_activity = np.full(self.n_lc, np.iinfo(np.int64).max)
        self.lc_index = {
            (int(u), int(c)): i
            for i, (u, c) in enumerate(zip(self.lc["user_id"], self.lc["course_id"], strict=True))
        }
        self.states = {c.id: self.course_state(c) for c in site.courses}
        self.grades: dict[tuple[int, int], dict] = {}  # (grade item, user) -> grade_grades row
        self.completion_rows: dict[tuple[int, int], dict] = {}
        self.question_usage = 0
        self.feedback_completed = 0

    # ------------------------------------------------------------- lookups
    def build_lookups(self) -> dict[str, np.ndarray]:
        contexts = self.tables["context"]
        max_user = max(self.site.users) + 1
        max_course = max(self.courses) + 1
        max_cm = max(r["id"] for r in self.tables["course_modules"]) + 1
        user_context = np.ones(max_user, dtype=np.int64)
        course_context = np.ones(max_course, dtype=np.int64)
        cm_context = np.ones(max_cm, dtype=np.int64)
        for row in contexts:
            level, instance = row["contextlevel"], row["instanceid"]
            if level == 30:
                user_context[instance] = row["id"]
            elif level == 50:
                course_context[instance] = row["id"]
            elif level == 70:
                cm_context[instance] = row["id"]
        users = np.arange(max_user)
        home_ip = np.array(
            [f"203.0.113.{u % 250 + 1}" if u % 3 else f"198.51.100.{u % 250 + 1}" for u in users],
            dtype=object,
        )
        mobile_ip = np.array(
            [f"100.64.{u // 250 % 250}.{u % 250 + 1}" for u in users], dtype=object
        )
        return {
            "user_context": user_context,
            "course_context": course_context,
            "cm_context": cm_context,
            "home_ip": home_ip,
            "mobile_ip": mobile_ip,
        }

    def course_state(self, course: Course) -> CourseState:
        activities = sorted(course.activities, key=lambda a: (a.week, a.cm_id))
        weeks = np.array([a.week for a in activities])
        return CourseState(
            course=course,
            learners=np.flatnonzero(self.lc["course_id"] == course.id),
            cm_ids=np.array([a.cm_id for a in activities], dtype=np.int64),
            cm_module=np.array([MODULE_CODES[a.module] for a in activities]),
            cm_instance=np.array([a.instance_id for a in activities], dtype=np.int64),
            cm_completion=np.array([a.completion for a in activities]),
            week_end_index=np.searchsorted(weeks, np.arange(course.weeks + 2), side="right"),
        )

    def add_row(self, table: str, row: dict) -> dict:
        self.tables.setdefault(table, []).append(row)
        return row

    # ---------------------------------------------------------------- plan
    def run(self, progress=None) -> None:
        origin = self.site.site_created_at
        self.schedule_setup_events()
        week_start = origin
        total_weeks = (self.as_of - origin) // WEEK + 1
        for _ in range(total_weeks):
            week_end = week_start + WEEK
            self.play_week(week_start, week_end)
            self.log.flush(min(week_end, self.as_of))
            if progress:
                progress(1, self.log.rows_written)
            week_start = week_end
        self.finish()
        self.log.discard_from(self.as_of)
        self.inject_anomalies()
        self.log.flush(np.iinfo(np.int64).max)

    def play_week(self, week_start: int, week_end: int) -> None:
        for course in self.site.courses:
            state = self.states[course.id]
            if course.is_self_paced:
                joined = self.lc["enrolled_at"][state.learners]
                for week in range(1, course.weeks + 1):
                    starts = joined + (week - 1) * WEEK
                    members = state.learners[(starts >= week_start) & (starts < week_end)]
                    if len(members):
                        self.play_course_week(
                            state,
                            week,
                            members,
                            starts[(starts >= week_start) & (starts < week_end)],
                        )
                self.staff_week(course, week_start)
                continue
            if course.start_at <= week_start < course.start_at + course.weeks * WEEK:
                week = (week_start - course.start_at) // WEEK + 1
                starts = np.full(len(state.learners), week_start, dtype=np.int64)
                self.play_course_week(state, int(week), state.learners, starts)
                self.staff_week(course, week_start)
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
        level = self.activity_level(members, week)
        active = level > 0
        members, starts, level = members[active], starts[active], level[active]
        if not len(members):
            return
        self.sessions(state, week, members, starts, level)
        course = state.course
        for activity in course.activities:
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
        session_start = (
            np.repeat(starts, count)
            + rng.choice(7, len(session_lc), p=DAY_WEIGHTS) * DAY
            + rng.choice(24, len(session_lc), p=HOUR_WEIGHTS) * HOUR
            + rng.integers(0, HOUR, len(session_lc))
        )
        if not len(session_lc):
            return
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
            if name == "forum" and state.discussions:
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
        log.add(
            session_start[login] - 45,
            login_users,
            "\\core\\event\\user_loggedin",
            0,
            objectid=login_users,
            other=np.array(
                [
                    log.encode_other(int(t), {"username": self.site.users[int(u)]["username"]})
                    for t, u in zip(session_start[login], login_users, strict=True)
                ],
                dtype=object,
            ),
        )
        log.add(session_start[login] - 30, login_users, "\\core\\event\\dashboard_viewed", 0)
        np.minimum.at(self.lc_first_activity, session_lc, session_start)
        self.view_completions(
            state,
            np.repeat(session_lc, size)[module_event],
            cm[module_event],
            time[module_event],
            module[module_event],
        )

    def discussion_views(self, state: CourseState, time, user, origin) -> None:
        if not len(time):
            return
        discussions = np.array(state.discussions)
        created = discussions[:, 3]
        choice = (self.rng.random(len(time)) * len(discussions)).astype(int)
        # Only discussions that exist already can be read.
        exists = created[choice] < time
        d = discussions[choice[exists]]
        self.log.add(
            time[exists],
            user[exists],
            "\\mod_forum\\event\\discussion_viewed",
            state.course.id,
            d[:, 1],
            d[:, 0],
            origin=origin[exists],
        )

    def view_completions(self, state, session_lc, cm, time, module) -> None:
        """Viewing a page completes it; ticking a file completes it by hand."""
        if not state.course.has_completion or not len(cm):
            return
        tracked = (module == MODULE_CODES["page"]) | (module == MODULE_CODES["resource"])
        order = np.argsort(time[tracked], kind="stable")
        seen: set[tuple[int, int]] = set()
        for lc_index, cm_id, t, code in zip(
            session_lc[tracked][order],
            cm[tracked][order],
            time[tracked][order],
            module[tracked][order],
            strict=True,
        ):
            key = (int(lc_index), int(cm_id))
            if key in seen or key in state.completed:
                continue
            seen.add(key)
            if code == MODULE_CODES["resource"] and self.rng.random() < 0.5:
                continue
            self.complete_activity(state, int(lc_index), int(cm_id), int(t) + 2, 1)

    def complete_activity(
        self, state: CourseState, lc_index: int, cm_id: int, time: int, value: int
    ) -> None:
        key = (lc_index, cm_id)
        previous = state.completed.get(key)
        if previous == value or time >= self.as_of:
            return
        user = int(self.lc["user_id"][lc_index])
        if previous is None:
            row = self.add_row(
                "course_modules_completion",
                {
                    "id": self.ids.next("course_modules_completion"),
                    "coursemoduleid": cm_id,
                    "userid": user,
                    "completionstate": value,
                    "overrideby": None,
                    "timemodified": time,
                },
            )
            self.completion_rows[key] = row
        else:
            row = self.completion_rows[key]
            row.update(completionstate=value, timemodified=time)
        state.completed[key] = value
        self.log.add(
            time,
            user,
            "\\core\\event\\course_module_completion_updated",
            state.course.id,
            cm_id,
            row["id"],
            related=user,
            other=self.log.encode_other(
                time, {"relateduserid": user, "overrideby": None, "completionstate": value}
            ),
        )

    # ------------------------------------------------------------- quizzes
    def quiz(self, state: CourseState, quiz: Activity, members, starts, level) -> None:
        rng, lc, log, course = self.rng, self.lc, self.log, state.course
        engagement, ability = lc["engagement"][members], lc["ability"][members]
        attempts_first = rng.random(len(members)) < _sigmoid(1.0 + 1.3 * engagement) * np.sqrt(
            np.minimum(level, 1)
        )
        active_next = lc["last_active_week"][members] > quiz.week
        window_end = np.where(active_next, starts + WEEK + 2 * DAY, starts + WEEK - HOUR)
        if quiz.due_at:
            window_end = np.minimum(window_end, quiz.due_at)
        opens = starts
        rows = []
        for i in np.flatnonzero(attempts_first):
            user = int(lc["user_id"][members[i]])
            span = max(int(window_end[i] - opens[i]), HOUR)
            start = int(opens[i] + span * rng.beta(2.0, 1.3))
            score = float(_sigmoid(0.4 + 1.2 * ability[i] + rng.normal(0, 0.7)))
            number = 1
            while start < window_end[i] and start < self.as_of:
                duration = int(rng.integers(6, 28) * 60)
                abandoned = rng.random() < 0.03
                rows.append((members[i], user, number, start, duration, score, abandoned))
                allowed = quiz.max_attempts == 0 or number < quiz.max_attempts
                if abandoned or score >= 0.6 or not allowed or number >= 3 or rng.random() < 0.5:
                    break
                number += 1
                start += duration + int(rng.integers(10 * 60, 2 * DAY))
                score = min(1.0, score + float(rng.uniform(0.05, 0.25)))
        if not rows:
            return
        best: dict[int, tuple[float, int]] = {}
        for lc_index, user, number, start, duration, score, abandoned in rows:
            attempt_id = self.ids.next("quiz_attempts")
            self.question_usage += 1
            finish = start + duration
            finished = not abandoned and finish < self.as_of
            state_name = "finished" if finished else ("abandoned" if abandoned else "inprogress")
            sumgrades = round(score * 20.0, 5) if finished else None
            self.add_row(
                "quiz_attempts",
                {
                    "id": attempt_id,
                    "quiz": quiz.instance_id,
                    "userid": user,
                    "attempt": number,
                    "uniqueid": self.question_usage,
                    "layout": "1,2,0,3,4,0,5,0",
                    "currentpage": 0,
                    "preview": 0,
                    "state": state_name,
                    "timestart": start,
                    "timefinish": finish if finished else 0,
                    "timemodified": finish if finished else start + 120,
                    "timemodifiedoffline": 0,
                    "timecheckstate": None if finished else start + 1800,
                    "sumgrades": sumgrades,
                },
            )
            other = log.encode_other(start, {"quizid": quiz.instance_id})
            log.add(start - 60, user, VIEW_EVENT["quiz"], course.id, quiz.cm_id, quiz.instance_id)
            log.add(
                start,
                user,
                "\\mod_quiz\\event\\attempt_started",
                course.id,
                quiz.cm_id,
                attempt_id,
                related=user,
                other=other,
            )
            for page in (1, 2):
                viewed = start + page * duration // 3
                if viewed < self.as_of:
                    log.add(
                        viewed,
                        user,
                        "\\mod_quiz\\event\\attempt_viewed",
                        course.id,
                        quiz.cm_id,
                        attempt_id,
                        related=user,
                        other=log.encode_other(viewed, {"quizid": quiz.instance_id, "page": page}),
                    )
            if abandoned:
                log.add(
                    finish + 1800,
                    user,
                    "\\mod_quiz\\event\\attempt_abandoned",
                    course.id,
                    quiz.cm_id,
                    attempt_id,
                    related=user,
                    other=log.encode_other(
                        finish, {"submitterid": None, "quizid": quiz.instance_id}
                    ),
                    origin=CLI,
                )
            if not finished:
                continue
            log.add(
                finish - 30,
                user,
                "\\mod_quiz\\event\\attempt_summary_viewed",
                course.id,
                quiz.cm_id,
                attempt_id,
                related=user,
                other=other,
            )
            log.add(
                finish,
                user,
                "\\mod_quiz\\event\\attempt_submitted",
                course.id,
                quiz.cm_id,
                attempt_id,
                related=user,
                other=log.encode_other(finish, {"submitterid": user, "quizid": quiz.instance_id}),
            )
            grade = round(score * quiz.grademax, 5)
            if grade >= best.get(lc_index, (-1.0, 0))[0]:
                best[lc_index] = (grade, finish)
            row = self.set_grade(
                quiz.grade_item_id, user, best[lc_index][0], quiz.grademax, user, finish
            )
            log.add(
                finish + 1,
                user,
                "\\core\\event\\user_graded",
                course.id,
                0,
                row["id"],
                related=user,
                other=log.encode_other(
                    finish,
                    {
                        "itemid": quiz.grade_item_id,
                        "overridden": False,
                        "finalgrade": best[lc_index][0],
                    },
                ),
            )
            if rng.random() < 0.6:
                log.add(
                    finish + 45,
                    user,
                    "\\mod_quiz\\event\\attempt_reviewed",
                    course.id,
                    quiz.cm_id,
                    attempt_id,
                    related=user,
                    other=other,
                )
            if quiz.completion == 2:
                passed = quiz.gradepass <= 0 or best[lc_index][0] >= quiz.gradepass
                value = (2 if passed else 3) if quiz.gradepass > 0 else 1
                self.complete_activity(state, int(lc_index), quiz.cm_id, finish + 2, value)
        for lc_index, (grade, finish) in best.items():
            self.add_row(
                "quiz_grades",
                {
                    "id": self.ids.next("quiz_grades"),
                    "quiz": quiz.instance_id,
                    "userid": int(lc["user_id"][lc_index]),
                    "grade": grade,
                    "timemodified": finish,
                },
            )

    def set_grade(
        self, item_id: int, user: int, grade: float, grademax: float, modifier: int, time: int
    ) -> dict:
        key = (item_id, user)
        row = self.grades.get(key)
        if row is None:
            row = self.add_row(
                "grade_grades",
                {
                    "id": self.ids.next("grade_grades"),
                    "itemid": item_id,
                    "userid": user,
                    "rawgrade": grade,
                    "rawgrademax": grademax,
                    "rawgrademin": 0.0,
                    "usermodified": modifier,
                    "finalgrade": grade,
                    "timecreated": time,
                    "timemodified": time,
                    "aggregationstatus": "used",
                    "aggregationweight": None,
                },
            )
            self.grades[key] = row
        else:
            row.update(rawgrade=grade, finalgrade=grade, usermodified=modifier, timemodified=time)
        return row

    # --------------------------------------------------------- assignments
    def assignment(self, state: CourseState, assign: Activity, members, starts, level) -> None:
        rng, lc, log, course = self.rng, self.lc, self.log, state.course
        engagement, ability = lc["engagement"][members], lc["ability"][members]
        submits = rng.random(len(members)) < _sigmoid(1.5 + 1.4 * engagement) * np.sqrt(
            np.minimum(level, 1)
        )
        active_next = lc["last_active_week"][members] > assign.week
        late = (
            submits & active_next & (rng.random(len(members)) < _sigmoid(-1.7 - 0.9 * engagement))
        )
        due = assign.due_at
        delay = np.where(
            late,
            rng.exponential(36 * HOUR, len(members)) + 600,
            -rng.exponential(30 * HOUR, len(members)) - 300,
        ).astype(np.int64)
        submit_time = np.maximum(due + delay, assign.opens_at + HOUR)
        if assign.cutoff_at:
            submit_time = np.minimum(submit_time, assign.cutoff_at - 60)
        # A fading learner's submission stays within their last active week.
        submit_time = np.minimum(
            submit_time, np.where(active_next, submit_time, starts + WEEK - HOUR)
        )
        drafts_only = submits & (
            rng.random(len(members))
            < (0.12 if self.instance_setting(assign, "submissiondrafts") else 0)
        )
        plugin = np.where(rng.random(len(members)) < 0.5, "file", "onlinetext")
        submissions: list[tuple[int, int, int, dict]] = []
        for i in range(len(members)):
            user = int(lc["user_id"][members[i]])
            if not submits[i]:
                if rng.random() < 0.5:  # opened the assignment but did not submit
                    seen = int(starts[i] + rng.integers(HOUR, WEEK - HOUR))
                    if seen < self.as_of:
                        self.add_row(
                            "assign_submission",
                            {
                                "id": self.ids.next("assign_submission"),
                                "assignment": assign.instance_id,
                                "userid": user,
                                "timecreated": seen,
                                "timemodified": seen,
                                "timestarted": None,
                                "status": "new",
                                "groupid": 0,
                                "attemptnumber": 0,
                                "latest": 1,
                            },
                        )
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
            modified = t
            component = f"assignsubmission_{plugin[i]}"
            log.add(t - 420, user, "\\core\\event\\course_viewed", course.id)
            log.add(
                t - 400, user, VIEW_EVENT["assign"], course.id, assign.cm_id, assign.instance_id
            )
            log.add(
                t - 380,
                user,
                "\\mod_assign\\event\\submission_form_viewed",
                course.id,
                assign.cm_id,
                assign.instance_id,
            )
            log.add(
                t - 90,
                user,
                f"\\{component}\\event\\submission_created",
                course.id,
                assign.cm_id,
                submission_id,
                related=user,
                other=log.encode_other(
                    t,
                    {
                        "submissionid": submission_id,
                        "submissionattempt": 0,
                        "submissionstatus": status,
                    },
                ),
            )
            if plugin[i] == "file":
                log.add(
                    t - 85,
                    user,
                    "\\assignsubmission_file\\event\\assessable_uploaded",
                    course.id,
                    assign.cm_id,
                    submission_id,
                    other=log.encode_other(
                        t, {"content": "", "pathnamehashes": [_md5(str(submission_id))]}
                    ),
                )
            if status == "submitted":
                log.add(
                    t,
                    user,
                    "\\mod_assign\\event\\assessable_submitted",
                    course.id,
                    assign.cm_id,
                    submission_id,
                    other=log.encode_other(t, {"submission_editable": True}),
                )
                if assign.completion == 2:
                    self.complete_activity(state, int(members[i]), assign.cm_id, t + 2, 1)
                # Some learners edit their submission again before the due date.
                if t < due - 2 * HOUR and rng.random() < 0.12:
                    modified = int(rng.integers(t + HOUR, due))
                    if modified < self.as_of:
                        log.add(
                            modified,
                            user,
                            f"\\{component}\\event\\submission_updated",
                            course.id,
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
                    else:
                        modified = t
            row = self.add_row(
                "assign_submission",
                {
                    "id": submission_id,
                    "assignment": assign.instance_id,
                    "userid": user,
                    "timecreated": t - 90,
                    "timemodified": modified,
                    "timestarted": None,
                    "status": status,
                    "groupid": 0,
                    "attemptnumber": 0,
                    "latest": 1,
                },
            )
            if status == "submitted":
                submissions.append((int(members[i]), user, float(ability[i]), row))
        self.grade_assignment(state, assign, submissions, members)

    def instance_setting(self, activity: Activity, column: str):
        rows = self.tables[activity.module]
        return next(r for r in rows if r["id"] == activity.instance_id).get(column)

    def grade_assignment(self, state: CourseState, assign: Activity, submissions, members) -> None:
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
        to_grade = [(lc_index, user, ability, row) for lc_index, user, ability, row in submissions]
        if course.grades_missing_as_zero:
            submitted = {lc_index for lc_index, *_ in submissions}
            for lc_index in members:
                if int(lc_index) not in submitted:
                    to_grade.append((int(lc_index), int(self.lc["user_id"][lc_index]), None, None))
        for position, (lc_index, user, ability, submission) in enumerate(to_grade):
            t = graded_at + 90 * (position + 1)
            grade = (
                0.0
                if ability is None
                else round(100 * float(_sigmoid(0.9 + 1.3 * ability + rng.normal(0, 0.6))), 2)
            )
            self.grade_attempt(state, assign, lc_index, user, grade, t, teacher, 0)
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
                    self.last_assign_grade_id,
                    related=user,
                    other=log.encode_other(read_at, {"assignid": assign.instance_id}),
                )
            if assign.max_attempts > 1 and assign.gradepass > 0 and grade < assign.gradepass:
                self.reopen(state, assign, lc_index, user, submission, t, teacher)

    def week_of(self, course: Course, lc_index: int, time: int) -> int:
        anchor = course.start_at or int(self.lc["enrolled_at"][lc_index])
        return int((time - anchor) // WEEK) + 1

    def grade_attempt(self, state, assign, lc_index, user, grade, t, teacher, attempt) -> None:
        log, course = self.log, state.course
        grade_id = self.ids.next("assign_grades")
        self.last_assign_grade_id = grade_id
        self.add_row(
            "assign_grades",
            {
                "id": grade_id,
                "assignment": assign.instance_id,
                "userid": user,
                "timecreated": t,
                "timemodified": t,
                "grader": teacher,
                "grade": grade,
                "penalty": 0.0,
                "attemptnumber": attempt,
            },
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
        row = self.set_grade(assign.grade_item_id, user, grade, assign.grademax, teacher, t)
        log.add(
            t + 1,
            teacher,
            "\\core\\event\\user_graded",
            course.id,
            0,
            row["id"],
            related=user,
            other=log.encode_other(
                t, {"itemid": assign.grade_item_id, "overridden": False, "finalgrade": grade}
            ),
        )

    def reopen(self, state, assign, lc_index, user, submission, graded_at, teacher) -> None:
        """A failed attempt reopens; an engaged learner resubmits and is graded again."""
        rng, log, course = self.rng, self.log, state.course
        submission["latest"] = 0
        attempt_id = self.ids.next("assign_submission")
        row = self.add_row(
            "assign_submission",
            {
                "id": attempt_id,
                "assignment": assign.instance_id,
                "userid": user,
                "timecreated": graded_at,
                "timemodified": graded_at,
                "timestarted": None,
                "status": "reopened",
                "groupid": 0,
                "attemptnumber": 1,
                "latest": 1,
            },
        )
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
        row.update(status="submitted", timemodified=resubmitted_at)
        log.add(
            resubmitted_at - 60,
            user,
            "\\assignsubmission_file\\event\\submission_updated",
            course.id,
            assign.cm_id,
            attempt_id,
            related=user,
            other=log.encode_other(
                resubmitted_at,
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
        news = next(a for a in course.activities if a.forum_type == "news")
        general = next(a for a in course.activities if a.forum_type == "general")
        if not course.is_self_paced:
            posted = int(starts[0]) + 9 * HOUR + int(rng.integers(0, HOUR))
            self.new_discussion(
                state, news, course.teacher_ids[0], posted, f"Week {week} announcements"
            )
        engagement = lc["engagement"][members]
        opens = rng.random(len(members)) < _sigmoid(-2.6 + 0.9 * engagement) * level
        for i in np.flatnonzero(opens):
            t = int(starts[i] + rng.integers(HOUR, WEEK - 2 * HOUR))
            user = int(lc["user_id"][members[i]])
            self.new_discussion(state, general, user, t, f"Question about week {week}")
            if rng.random() < 0.35:
                self.reply(state, course.teacher_ids[0], t + int(rng.integers(3 * HOUR, 2 * DAY)))
        replies = rng.poisson(_sigmoid(-1.2 + 1.0 * engagement) * level)
        for i in np.flatnonzero(replies):
            user = int(lc["user_id"][members[i]])
            for _ in range(int(replies[i])):
                t = int(starts[i] + rng.integers(2 * HOUR, WEEK - HOUR))
                self.reply(state, user, t, recent_only=True)

    def new_discussion(
        self, state: CourseState, forum: Activity, user: int, t: int, subject: str
    ) -> None:
        if t >= self.as_of:
            return
        log, course = self.log, state.course
        discussion_id = self.ids.next("forum_discussions")
        post_id = self.ids.next("forum_posts")
        self.add_row(
            "forum_discussions",
            {
                "id": discussion_id,
                "course": course.id,
                "forum": forum.instance_id,
                "name": subject,
                "firstpost": post_id,
                "userid": user,
                "groupid": -1,
                "assessed": 0,
                "timemodified": t,
                "usermodified": user,
                "timestart": 0,
                "timeend": 0,
                "pinned": 0,
                "timelocked": 0,
            },
        )
        self.add_row("forum_posts", self.post_row(post_id, discussion_id, 0, user, t, subject))
        state.discussions.append((discussion_id, forum.cm_id, forum.instance_id, t, post_id))
        log.add(t - 120, user, VIEW_EVENT["forum"], course.id, forum.cm_id, forum.instance_id)
        log.add(
            t,
            user,
            "\\mod_forum\\event\\discussion_created",
            course.id,
            forum.cm_id,
            discussion_id,
            other=log.encode_other(t, {"forumid": forum.instance_id}),
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\assessable_uploaded",
            course.id,
            forum.cm_id,
            post_id,
            other=log.encode_other(
                t, {"discussionid": discussion_id, "triggeredfrom": "forum_add_discussion"}
            ),
        )

    @staticmethod
    def post_row(post_id, discussion_id, parent, user, t, subject) -> dict:
        words = 40 + post_id % 160
        return {
            "id": post_id,
            "discussion": discussion_id,
            "parent": parent,
            "userid": user,
            "created": t,
            "modified": t,
            "mailed": 1,
            "subject": subject,
            "message": f"<p>{'lorem ' * 5}</p>",
            "messageformat": 1,
            "messagetrust": 0,
            "attachment": "",
            "totalscore": 0,
            "mailnow": 0,
            "deleted": 0,
            "privatereplyto": 0,
            "wordcount": words,
            "charcount": words * 6,
        }

    def reply(self, state: CourseState, user: int, t: int, recent_only: bool = False) -> None:
        candidates = [
            d
            for d in state.discussions
            if d[3] < t - 600 and (not recent_only or d[3] > t - 2 * WEEK)
        ]
        if not candidates or t >= self.as_of:
            return
        log, course = self.log, state.course
        discussion_id, forum_cm, forum_id, _created, first_post = candidates[
            int(self.rng.integers(len(candidates)))
        ]
        post_id = self.ids.next("forum_posts")
        self.add_row(
            "forum_posts",
            self.post_row(post_id, discussion_id, first_post, user, t, "Re: discussion"),
        )
        log.add(
            t - 240,
            user,
            "\\mod_forum\\event\\discussion_viewed",
            course.id,
            forum_cm,
            discussion_id,
        )
        other = {"discussionid": discussion_id, "forumid": forum_id, "forumtype": "general"}
        log.add(
            t,
            user,
            "\\mod_forum\\event\\post_created",
            course.id,
            forum_cm,
            post_id,
            other=log.encode_other(t, other),
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\assessable_uploaded",
            course.id,
            forum_cm,
            post_id,
            other=log.encode_other(
                t, {"discussionid": discussion_id, "triggeredfrom": "forum_add_discussion_post"}
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
            times = week_start + np.sort(rng.integers(0, WEEK, visits))
            times = times[times < self.as_of]
            if not len(times):
                continue
            log.add(
                times - 40,
                teacher,
                "\\core\\event\\user_loggedin",
                0,
                objectid=teacher,
                other=np.array(
                    [
                        log.encode_other(int(t), {"username": self.site.users[teacher]["username"]})
                        for t in times
                    ],
                    dtype=object,
                ),
            )
            log.add(times, teacher, "\\core\\event\\course_viewed", course.id)
            log.add(
                times[:1] + 300,
                teacher,
                "\\report_log\\event\\report_viewed",
                course.id,
                other=log.encode_other(
                    int(times[0]),
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
                other=log.encode_other(
                    int(times[-1]),
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
        usernames = [
            self.site.users[int(u)]["username"]
            for u in rng.choice(list(self.site.users), len(failed))
        ]
        log.add(
            failed,
            0,
            "\\core\\event\\user_login_failed",
            0,
            other=np.array(
                [
                    log.encode_other(int(t), {"username": name, "reason": 3})
                    for t, name in zip(failed, usernames, strict=True)
                ],
                dtype=object,
            ),
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
                        admin_time,
                        {"name": "forcelogin", "oldvalue": "0", "value": "0", "plugin": None},
                    ),
                )
        self.logged_in_as(week_start)

    def logged_in_as(self, week_start: int) -> None:
        """Now and then the admin logs in as a learner to see what they see."""
        rng = self.rng
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
        lc_index = int(members[int(rng.integers(len(members)))])
        learner = int(self.lc["user_id"][lc_index])
        log = self.log
        log.add(
            t,
            ADMIN_USER_ID,
            "\\core\\event\\user_loggedinas",
            0,
            objectid=learner,
            related=learner,
            other=log.encode_other(
                t,
                {
                    "originalusername": "admin",
                    "loggedinasusername": self.site.users[learner]["username"],
                },
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
        log, tables = self.log, self.tables
        for user in tables["user"]:
            if user["id"] > ADMIN_USER_ID:
                t = user["timecreated"]
                log.add(
                    t,
                    ADMIN_USER_ID,
                    "\\core\\event\\user_created",
                    0,
                    objectid=user["id"],
                    related=user["id"],
                )
        first_term_course = None
        for course in self.site.courses:
            created = next(r["timecreated"] for r in tables["course"] if r["id"] == course.id)
            log.add(
                created,
                ADMIN_USER_ID,
                "\\core\\event\\course_created",
                course.id,
                objectid=course.id,
                other=log.encode_other(
                    created, {"shortname": course.shortname, "fullname": course.fullname}
                ),
            )
            teacher = course.teacher_ids[0]
            for offset, activity in enumerate(course.activities):
                t = created + HOUR + 120 * offset
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
                # This offering was restored from a backup of the first one: Moodle
                # logs the restore and copies the old course's log rows.
                log.add(
                    created,
                    ADMIN_USER_ID,
                    "\\core\\event\\course_restored",
                    course.id,
                    objectid=course.id,
                    other=log.encode_other(
                        created,
                        {
                            "type": "course",
                            "target": 2,
                            "mode": 10,
                            "operation": "restore",
                            "samesite": True,
                            "originalcourseid": first_term_course.id,
                        },
                    ),
                )
                old_created = next(
                    r["timecreated"] for r in tables["course"] if r["id"] == first_term_course.id
                )
                for offset, activity in enumerate(course.activities[:10]):
                    t = old_created + HOUR + 120 * offset
                    log.add(
                        t,
                        teacher,
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
                row = next(r for r in tables["course"] if r["id"] == course.id)
                row["originalcourseid"] = first_term_course.id
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
        ue_by_id = {r["id"]: r for r in tables["user_enrolments"]}
        enrol_by_id = {r["id"]: r for r in tables["enrol"]}
        ra_by_user_context = {(r["userid"], r["contextid"]): r for r in tables["role_assignments"]}
        for ue in ue_by_id.values():
            enrol = enrol_by_id[ue["enrolid"]]
            course = self.courses[enrol["courseid"]]
            actor = ADMIN_USER_ID if enrol["enrol"] == "manual" else ue["userid"]
            t = ue["timecreated"]
            log.add(
                t,
                actor,
                "\\core\\event\\user_enrolment_created",
                course.id,
                objectid=ue["id"],
                related=ue["userid"],
                other=log.encode_other(t, {"enrol": enrol["enrol"]}),
            )
            ra = ra_by_user_context.get((ue["userid"], course.context_id))
            if ra:
                log.add(
                    t,
                    actor,
                    "\\core\\event\\role_assigned",
                    course.id,
                    objectid=ra["roleid"],
                    related=ue["userid"],
                    other=log.encode_other(t, {"id": ra["id"], "component": "", "itemid": 0}),
                )

    # ------------------------------------------------------------- finish
    def finish(self) -> None:
        self.course_totals()
        self.course_completions()
        self.enrolment_changes()
        self.user_fields()

    def course_totals(self) -> None:
        """Course total: mean of graded items' normalised grades ("mean of grades")."""
        items = {r["id"]: r for r in self.tables["grade_items"]}
        by_course_user: dict[tuple[int, int], list[tuple[float, int]]] = {}
        for (item_id, user), row in self.grades.items():
            item = items[item_id]
            if item["itemtype"] != "mod" or row["finalgrade"] is None:
                continue
            share = row["finalgrade"] / item["grademax"]
            by_course_user.setdefault((item["courseid"], user), []).append(
                (share, row["timemodified"])
            )
        for (course_id, user), shares in by_course_user.items():
            course = self.courses[course_id]
            mean = sum(s for s, _ in shares) / len(shares)
            final = round(mean * course.course_grademax, 5)
            t = max(time for _, time in shares)
            row = self.set_grade(
                course.course_grade_item_id, user, final, course.course_grademax, None, t
            )
            row.update(rawgrade=None, usermodified=None, aggregationstatus="unknown")
            # Teachers override a few course totals by hand.
            if self.rng.random() < 0.02:
                row.update(
                    finalgrade=round(min(course.course_grademax, final * 1.08), 5),
                    overridden=t + DAY,
                )

    def course_completions(self) -> None:
        criteria: dict[int, list[int]] = {}
        for row in self.tables.get("course_completion_criteria", []):
            if row["criteriatype"] == 4:
                criteria.setdefault(row["course"], []).append(row["moduleinstance"])
        for course in self.site.courses:
            if not course.has_completion:
                continue
            state = self.states[course.id]
            self.add_row(
                "course_completion_criteria",
                {
                    "id": self.ids.next("course_completion_criteria"),
                    "course": course.id,
                    "criteriatype": 6,
                    "gradepass": course.course_gradepass,
                },
            )
            for lc_index in state.learners:
                user = int(self.lc["user_id"][lc_index])
                enrolled = int(self.lc["enrolled_at"][lc_index])
                started = (
                    int(self.lc_first_activity[lc_index])
                    if self.lc_first_activity[lc_index] < self.as_of
                    else 0
                )
                done_times = [
                    self.completion_rows[(int(lc_index), cm)]["timemodified"]
                    for cm in criteria.get(course.id, [])
                    if state.completed.get((int(lc_index), cm), 0) in (1, 2)
                ]
                total = self.grades.get((course.course_grade_item_id, user))
                complete = (
                    len(done_times) == len(criteria.get(course.id, []))
                    and total is not None
                    and total["finalgrade"] >= course.course_gradepass
                )
                completed_at = None
                if complete:
                    completed_at = max([*done_times, total["timemodified"]]) + HOUR
                    if course.end_at:
                        completed_at = max(completed_at, course.end_at + HOUR)
                    if completed_at >= self.as_of:
                        completed_at = None
                row = self.add_row(
                    "course_completions",
                    {
                        "id": self.ids.next("course_completions"),
                        "userid": user,
                        "course": course.id,
                        "timeenrolled": enrolled,
                        "timestarted": started,
                        "timecompleted": completed_at,
                        "reaggregate": 0,
                    },
                )
                if completed_at:
                    self.log.add(
                        completed_at,
                        ADMIN_USER_ID,
                        "\\core\\event\\course_completed",
                        course.id,
                        objectid=row["id"],
                        related=user,
                        origin=CLI,
                        other=self.log.encode_other(completed_at, {"relateduserid": user}),
                    )

    def enrolment_changes(self) -> None:
        """Teachers suspend some learners who stopped; a few learners are deleted."""
        rng, lc, tables = self.rng, self.lc, self.tables
        ue_by_id = {r["id"]: r for r in tables["user_enrolments"]}
        self.suspended_lc: list[int] = []
        for lc_index in np.flatnonzero(lc["trajectory"] == "fade_out"):
            course = self.courses[int(lc["course_id"][lc_index])]
            if course.is_self_paced or rng.random() > 0.15:
                continue
            t = course.start_at + (int(lc["last_active_week"][lc_index]) + 2) * WEEK + 10 * HOUR
            if t >= self.as_of:
                continue
            ue = ue_by_id[int(lc["ue_id"][lc_index])]
            ue.update(status=1, timemodified=t)
            self.suspended_lc.append(int(lc_index))
            self.log.add(
                t,
                course.teacher_ids[0],
                "\\core\\event\\user_enrolment_updated",
                course.id,
                objectid=ue["id"],
                related=ue["userid"],
                other=self.log.encode_other(t, {"enrol": "manual"}),
            )
        # A learner promoted to non-editing teacher in a running course keeps
        # the student role too; staff in the course are not learners.
        running = [c for c in self.site.courses if c.term_index == self.config.terms - 1]
        course = running[0]
        promoted_lc = int(self.states[course.id].learners[0])
        promoted = int(lc["user_id"][promoted_lc])
        self.add_row(
            "role_assignments",
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
            },
        )
        self.promoted_lc = promoted_lc
        # Deleted users: Moodle keeps the user row (deleted=1, username and
        # email scrambled) and the log, and removes enrolments and roles.
        finished_users = {}
        for lc_index in range(self.n_lc):
            course = self.courses[int(lc["course_id"][lc_index])]
            end = course.end_at or (
                course.start_at + course.weeks * WEEK if course.start_at else self.as_of
            )
            user = int(lc["user_id"][lc_index])
            finished_users[user] = max(finished_users.get(user, 0), end)
        candidates = sorted(u for u, end in finished_users.items() if end < self.as_of - 6 * WEEK)
        deleted = (
            set(rng.choice(candidates, max(1, len(candidates) // 50), replace=False).tolist())
            if candidates
            else set()
        )
        self.deleted_users = deleted
        for user_id in deleted:
            user = self.site.users[user_id]
            t = finished_users[user_id] + int(rng.integers(2 * WEEK, 5 * WEEK))
            t = min(t, self.as_of - DAY)
            username = f"{user['email']}.{t}"
            user.update(
                deleted=1,
                username=username,
                email=_md5(user["username"]),
                idnumber="",
                picture=0,
                timemodified=t,
            )
            self.log.add(
                t,
                ADMIN_USER_ID,
                "\\core\\event\\user_deleted",
                0,
                objectid=user_id,
                related=user_id,
                other=self.log.encode_other(
                    t,
                    {
                        "username": username,
                        "email": user["email"],
                        "idnumber": "",
                        "picture": 0,
                        "mnethostid": 1,
                    },
                ),
            )
        tables["user_enrolments"][:] = [
            r for r in tables["user_enrolments"] if r["userid"] not in deleted
        ]
        tables["role_assignments"][:] = [
            r for r in tables["role_assignments"] if r["userid"] not in deleted
        ]
        # A few accounts are suspended site-wide but stay enrolled.
        learners = sorted(set(lc["user_id"].tolist()) - deleted)
        self.suspended_users = set(
            rng.choice(learners, max(1, len(learners) // 100), replace=False).tolist()
        )
        for user_id in self.suspended_users:
            self.site.users[int(user_id)]["suspended"] = 1

    def user_fields(self) -> None:
        first, last = self.log.first_seen, self.log.last_seen
        for user_id, row in self.site.users.items():
            if last[user_id] > 0:
                row.update(
                    firstaccess=int(first[user_id]),
                    lastaccess=int(last[user_id]),
                    lastlogin=int(last[user_id]),
                    currentlogin=int(last[user_id]),
                    lastip=f"203.0.113.{user_id % 250 + 1}",
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
