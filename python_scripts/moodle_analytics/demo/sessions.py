"""Learners' study sessions: when they come, what they open, and what viewing completes.

A session is a run of log rows of one learner in one course a few minutes
apart: the course page first, then activities (mostly the current week's), a
grade report now and then, some logins with the dashboard before them. How
many sessions a learner has in a week and how long they are come from the
learner's engagement and the week's activity level (see personas.py).
Viewing a page completes it; a file is ticked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.gradebook import CourseState, Gradebook
from moodle_analytics.demo.logbuffer import WEB, WS
from moodle_analytics.demo.personas import persona_trait
from moodle_analytics.demo.world import HOUR, MODULE_CODES, VIEW_EVENT, Part, World

# When learners study: share of sessions starting in each UTC hour.
HOUR_WEIGHTS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.5, 3.5, 4, 4,
     3.5, 3.5, 4, 4, 4, 4, 4.5, 5, 5.5, 5, 4, 2.5]
)  # fmt: skip
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
DAY_WEIGHTS = np.array([1.25, 1.2, 1.15, 1.1, 0.9, 0.6, 0.8])
DAY_WEIGHTS = DAY_WEIGHTS / DAY_WEIGHTS.sum()


@dataclass
class Timeline:
    """The events of a week's sessions: one entry per session, then per event."""

    session_lc: np.ndarray
    session_user: np.ndarray
    session_start: np.ndarray
    origin: np.ndarray
    size: np.ndarray  # events per session
    time: np.ndarray  # per event
    is_first: np.ndarray  # per event: the session's first event (the course page)
    user: np.ndarray  # per event
    event_origin: np.ndarray  # per event


class Sessions(Part):
    def __init__(self, world: World, gradebook: Gradebook):
        super().__init__(world)
        self.gradebook = gradebook

    def play(self, state: CourseState, week: int, members, starts, level) -> None:
        """The sessions of learners in a course week, from the week's starts at `starts`."""
        count = self.session_counts(state, week, members, level)
        session_lc = np.repeat(members, count)
        if not len(session_lc):
            return
        timeline = self.timeline(session_lc, np.repeat(starts, count))
        n_events = len(timeline.time)
        rng = self.rng
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
        module_event = self.log_views(state, timeline, index)
        self.log_logins(timeline)
        np.minimum.at(self.world.lc_first_activity, session_lc, timeline.session_start)
        self.view_completions(
            state,
            np.repeat(session_lc, timeline.size)[module_event],
            index[module_event],
            timeline.time[module_event],
            state.cm_module[index][module_event],
        )

    def session_counts(self, state: CourseState, week: int, members, level) -> np.ndarray:
        lc = self.lc
        engagement = lc["engagement"][members]
        busy = persona_trait(lc, members, "session_rate")
        rate = 2.2 * np.exp(0.45 * engagement) * level * busy
        count = self.rng.poisson(rate)
        # Learners keep showing up in the last quarter unless designed to stop,
        # and a fading learner's last active week has at least one session.
        last_quarter = week > 0.75 * state.course.weeks
        count = np.where(
            last_quarter & (lc["trajectory"][members] == "steady"), np.maximum(count, 1), count
        )
        return np.where(lc["last_active_week"][members] == week, np.maximum(count, 1), count)

    def timeline(self, session_lc: np.ndarray, week_from: np.ndarray) -> Timeline:
        """When each session starts, how many events it has and when they happen."""
        rng, lc = self.rng, self.lc
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
        size = 1 + rng.poisson(
            3.4
            * np.exp(0.25 * lc["engagement"][session_lc])
            * persona_trait(lc, session_lc, "session_size")
        )
        n_events = int(size.sum())
        gaps = np.minimum(rng.exponential(110.0, n_events) + 8, 1500).astype(np.int64)
        first_of_session = np.r_[0, np.cumsum(size)[:-1]]
        gaps[first_of_session] = 0
        offsets = np.cumsum(gaps)
        offsets -= np.repeat(offsets[first_of_session], size)
        # A session late on Sunday ends before the week does: weeks stay whole.
        length = offsets[first_of_session + size - 1]
        session_start = np.minimum(session_start, week_from + WEEK - 1 - length)
        is_first = np.zeros(n_events, dtype=bool)
        is_first[first_of_session] = True
        return Timeline(
            session_lc=session_lc,
            session_user=user,
            session_start=session_start,
            origin=origin,
            size=size,
            time=np.repeat(session_start, size) + offsets,
            is_first=is_first,
            user=np.repeat(user, size),
            event_origin=np.repeat(origin, size),
        )

    def log_views(self, state: CourseState, timeline: Timeline, index) -> np.ndarray:
        """Log the course page, grade report and activity views; returns the activity views."""
        rng, log, course_id = self.rng, self.log, state.course.id
        time, user, origin, is_first = (
            timeline.time,
            timeline.user,
            timeline.event_origin,
            timeline.is_first,
        )
        n_events = len(time)
        grade_report = ~is_first & (rng.random(n_events) < 0.05)
        module_event = ~is_first & ~grade_report
        log.add(
            time[is_first], user[is_first], "\\core\\event\\course_viewed", course_id,
            origin=origin[is_first],
        )  # fmt: skip
        log.add(
            time[grade_report],
            user[grade_report],
            "\\gradereport_user\\event\\grade_report_viewed",
            course_id,
            related=user[grade_report],
            origin=origin[grade_report],
        )
        cm, module, instance = state.cm_ids[index], state.cm_module[index], state.cm_instance[index]
        for name, code in MODULE_CODES.items():
            chosen = module_event & (module == code)
            if not chosen.any():
                continue
            if name == "assign":
                status = chosen & (rng.random(n_events) < 0.5)
                log.add(
                    time[status],
                    user[status],
                    "\\mod_assign\\event\\submission_status_viewed",
                    course_id,
                    cm[status],
                    instance[status],
                    origin=origin[status],
                )
                chosen &= ~status
            if name == "forum" and len(state.discussions):
                talk = chosen & (rng.random(n_events) < 0.45)
                self.discussion_views(state, time[talk], user[talk], origin[talk])
                chosen &= ~talk
            log.add(
                time[chosen], user[chosen], VIEW_EVENT[name], course_id, cm[chosen],
                instance[chosen], origin=origin[chosen],
            )  # fmt: skip
        return module_event

    def log_logins(self, timeline: Timeline) -> None:
        """Some sessions on the web begin with a login and the dashboard."""
        log = self.log
        login = (timeline.origin == WEB) & (self.rng.random(len(timeline.session_lc)) < 0.45)
        login_users = timeline.session_user[login]
        login_at = timeline.session_start[login] - 45
        log.add(
            login_at,
            login_users,
            "\\core\\event\\user_loggedin",
            0,
            objectid=login_users,
            other=log.encode_many(login_at, {"username": self.world.usernames[login_users]}),
        )
        log.add(
            timeline.session_start[login] - 30, login_users, "\\core\\event\\dashboard_viewed", 0
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

    def view_completions(self, state: CourseState, session_lc, column, time, module) -> None:
        """Viewing a page completes it; ticking a file completes it by hand."""
        if not state.course.has_completion or not len(column):
            return
        tracked = (module == MODULE_CODES["page"]) | (module == MODULE_CODES["resource"])
        order = np.argsort(time[tracked], kind="stable")
        session_lc = session_lc[tracked][order]
        column, time, module = column[tracked][order], time[tracked][order], module[tracked][order]
        position = self.world.lc_pos[session_lc]
        # The first view of each learner and activity, if not completed before.
        _, first = np.unique(position * len(state.cm_ids) + column, return_index=True)
        first = np.sort(first)
        first = first[state.completion_state[position[first], column[first]] < 0]
        ticked = (module[first] != MODULE_CODES["resource"]) | (self.rng.random(len(first)) < 0.5)
        first = first[ticked]
        self.gradebook.complete_many(state, session_lc[first], column[first], time[first] + 2)
