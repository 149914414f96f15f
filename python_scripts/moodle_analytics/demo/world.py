"""What every part of the simulation shares: the site, the log, ids and buffers.

A World holds the site being played, the log buffer, the id sequences, the
activity tables written while playing (quiz attempts, submissions, posts...),
the per-learner-course arrays (one entry per learner-course, in the order of
site.learner_courses) and the per-course state of grades and completion. The
parts of the simulation (sessions, quizzes, assignments, forums, ...) are
`Part`s: each reads and writes the one World it is given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from moodle_analytics.demo.config import WEEK
from moodle_analytics.demo.logbuffer import LogBuffer
from moodle_analytics.demo.site import Course, Site
from moodle_analytics.demo.tables import RowBuffer
from moodle_analytics.event_catalogue import load_event_catalogue

HOUR = 3600
NO_END = (0, 2147483647)
NEVER = np.iinfo(np.int64).max
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


class World:
    def __init__(
        self,
        site: Site,
        write_log: Callable[[pa.Table], None],
        write_table: Callable[[str, pa.Table], None],
        rng: np.random.Generator,
    ):
        # Imported here: the gradebook's course state is built from a World.
        from moodle_analytics.demo.gradebook import course_state

        self.site = site
        self.config = site.config
        self.rng = rng
        self.as_of = self.config.as_of_epoch
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
            load_event_catalogue(),
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
        self.states = {c.id: course_state(self, c) for c in site.courses}
        self.lc_suspended_at = np.zeros(self.n_lc, dtype=np.int64)  # 0: never suspended

    def build_lookups(self) -> dict[str, np.ndarray]:
        """Context ids by user, course and course module, and each user's IP addresses."""
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

    def week_of(self, course: Course, lc_index: int, time: int) -> int:
        """The course week of a learner-course that contains a moment."""
        anchor = course.start_at or int(self.lc["enrolled_at"][lc_index])
        return int((time - anchor) // WEEK) + 1


class Part:
    """One purpose of the simulation, reading and writing the shared World."""

    def __init__(self, world: World):
        self.world = world
        self.rng = world.rng
        self.lc = world.lc
        self.log = world.log
        self.ids = world.ids
        self.out = world.out
        self.as_of = world.as_of
