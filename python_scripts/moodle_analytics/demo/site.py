"""The static part of the demo site: its data model, rows and ids, and its building.

Everything built here exists before anyone acts; simulate.py then plays the
terms week by week. This module holds the site's dataclasses (Site, Course,
Activity), the rows of its tables as they are built (SiteRows: ids, contexts,
users, enrolments, grade items) and SiteBuilder, which adds the system, staff
and categories and hands courses to courses.py and enrolments to
enrolments.py. Ids follow Moodle's conventions: user 1 is the guest, user 2
the admin, course 1 the front page, context 1 the system context, roles 1-8
the standard roles.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from moodle_analytics.demo.config import DAY, WEEK, DemoConfig
from moodle_analytics.demo.tables import RowBuffer
from moodle_analytics.pseudonyms import demo_marker

GUEST_USER_ID = 1
ADMIN_USER_ID = 2
SITE_COURSE_ID = 1
SYSTEM_CONTEXT_ID = 1

# Moodle's standard roles: id, shortname, archetype, sortorder.
ROLES = [
    (1, "manager", "manager"),
    (2, "coursecreator", "coursecreator"),
    (3, "editingteacher", "editingteacher"),
    (4, "teacher", "teacher"),
    (5, "student", "student"),
    (6, "guest", "guest"),
    (7, "user", "user"),
    (8, "frontpage", "frontpage"),
]
STUDENT_ROLE_ID, TEACHER_ROLE_ID, NON_EDITING_TEACHER_ROLE_ID = 5, 3, 4
EMAIL_STOP_EVERY = 37

# Installed activity modules, ids in Moodle's (alphabetical) install order.
MODULE_NAMES = [
    "assign", "bigbluebuttonbn", "book", "choice", "data", "feedback", "folder", "forum",
    "glossary", "h5pactivity", "imscp", "label", "lesson", "lti", "page", "qbank", "quiz",
    "resource", "scorm", "subsection", "url", "wiki", "workshop",
]  # fmt: skip
MODULE_IDS = {name: index + 1 for index, name in enumerate(MODULE_NAMES)}

# The demo's programmes, the files its dbt build reads (MOODLE_PROGRAMMES_DIR).
PROGRAMMES_DIR = Path(__file__).resolve().parent / "programmes"


def read_programme_courses(directory: Path = PROGRAMMES_DIR) -> dict[str, list[tuple[str, str]]]:
    """Each programme's (course code, title) in order, from programme_courses.csv."""
    with (directory / "programme_courses.csv").open(encoding="utf-8", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["course_position"]))
    programmes: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        programmes.setdefault(row["programme_code"], []).append(
            (row["course_code"], row["course_title"])
        )
    return programmes


# Programme courses in order, then electives. The code is the part of the
# course idnumber before the term, e.g. DS101-2026FA.
PROGRAMME_COURSES = read_programme_courses()
ELECTIVES = [
    ("HUM105", "Academic Writing"), ("MAT101", "Calculus I"), ("SCI120", "General Chemistry"),
    ("CS110", "Web Development"), ("HUM150", "Philosophy of Science"), ("CS210", "Databases"),
    ("MAT102", "Calculus II"), ("SCI130", "Physics I"), ("ENG140", "English for Academic Purposes"),
]  # fmt: skip

FIRST_NAMES = [
    "Amira", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Liam", "Maya", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Samir", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Aditi", "Bruno", "Carmen", "Dmitri", "Emeka", "Freya",
]  # fmt: skip
LAST_NAMES = [
    "Abebe", "Brown", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
    "Silva", "Tanaka", "Usman", "Varga", "Williams", "Xu", "Yilmaz", "Zhang", "Novak", "Moreau",
]  # fmt: skip

TRAJECTORIES = ("steady", "fade_out", "never_start")

# Tables with a row per person or per enrolment grow with the site; they are
# kept as column tuples (RowBuffer) rather than one dict per row.
LEARNER_SCALE_COLUMNS = {
    "user": (
        "id", "auth", "confirmed", "mnethostid", "username", "password", "idnumber",
        "firstname", "lastname", "email", "emailstop", "city", "country", "lang", "timezone",
        "lastip", "secret", "theme", "description", "timecreated", "timemodified",
    ),
    "user_enrolments": (
        "id", "status", "enrolid", "userid", "timestart", "timeend", "modifierid",
        "timecreated", "timemodified",
    ),
    "role_assignments": (
        "id", "roleid", "contextid", "userid", "timemodified", "modifierid", "component",
        "itemid", "sortorder",
    ),
    "context": ("id", "contextlevel", "instanceid", "path", "depth", "locked"),
}  # fmt: skip


def term_code(start_epoch: int) -> str:
    """2026FA for a term starting in the second half of 2026, 2026SP otherwise."""
    start = datetime.fromtimestamp(start_epoch, UTC)
    return f"{start.year}{'FA' if start.month >= 7 else 'SP'}"


@dataclass
class Activity:
    cm_id: int
    course_id: int
    module: str
    instance_id: int
    name: str
    week: int  # course section number; 0 is the general section
    context_id: int
    due_at: int = 0  # assign.duedate / quiz.timeclose; 0 when none
    opens_at: int = 0
    cutoff_at: int = 0
    grade_item_id: int = 0
    grademax: float = 0.0
    gradepass: float = 0.0
    max_attempts: int = 1  # quiz attempts (0 unlimited) or assign maxattempts
    completion: int = 0
    forum_type: str = ""
    anonymous: bool = False


@dataclass
class Course:
    id: int
    code: str
    fullname: str
    shortname: str
    idnumber: str
    category_id: int
    term_index: int  # -1 for the self-paced course that runs across terms
    start_at: int  # 0 for the self-paced course
    end_at: int  # 0 when the course has no end date
    weeks: int
    has_completion: bool
    context_id: int
    grade_category_id: int = 0
    course_grade_item_id: int = 0
    course_grademax: float = 100.0
    course_gradepass: float = 50.0
    teacher_ids: list[int] = field(default_factory=list)
    assistant_ids: list[int] = field(default_factory=list)
    enrol_ids: dict[str, int] = field(default_factory=dict)
    guest_access: bool = False
    grades_missing_as_zero: bool = False
    break_week: int = 0  # course week of a break (reading week, Easter); 0 for none
    activities: list[Activity] = field(default_factory=list)

    @property
    def is_self_paced(self) -> bool:
        return self.start_at == 0


class IdSequence:
    """Moodle-style per-table id sequences."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next(self, table: str) -> int:
        value = self._next.get(table, 1)
        self._next[table] = value + 1
        return value

    def take(self, table: str, count: int) -> np.ndarray:
        """The next `count` ids, in order."""
        first = self._next.get(table, 1)
        self._next[table] = first + count
        return np.arange(first, first + count, dtype=np.int64)

    def peek(self, table: str) -> int:
        return self._next.get(table, 1)

    def set_floor(self, table: str, value: int) -> None:
        self._next[table] = max(self._next.get(table, 1), value)


@dataclass
class Site:
    config: DemoConfig
    ids: IdSequence
    # tables with a row per course, activity or setting: lists of row dicts
    tables: dict[str, list[dict]]
    # tables with a row per person or enrolment (LEARNER_SCALE_COLUMNS), ids 1, 2, ...
    frames: dict[str, pd.DataFrame]
    courses: list[Course]
    admin_ids: list[int]
    manager_ids: list[int]
    teacher_ids: list[int]
    # one row per learner-course, as parallel arrays (see plan_enrolments)
    learner_courses: dict[str, np.ndarray]
    site_created_at: int


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


class SiteRows:
    """The rows of the site's tables as they are built, with their ids and contexts."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.ids = IdSequence()
        # tables with a row per course, activity or setting: lists of row dicts
        self.tables: dict[str, list[dict]] = {}
        self.buffers = {
            table: RowBuffer(table, columns) for table, columns in LEARNER_SCALE_COLUMNS.items()
        }
        self.context_paths: dict[int, str] = {}
        self.course_created_at: dict[int, int] = {}

    def add(self, table: str, row: dict) -> dict:
        buffer = self.buffers.get(table)
        if buffer is not None:
            buffer.add(*(row[column] for column in buffer.columns))
        else:
            self.tables.setdefault(table, []).append(row)
        return row

    def new_context(self, level: int, instance: int, parent_path: str) -> int:
        """A context under the one at parent_path; its depth is the length of its path."""
        context_id = self.ids.next("context")
        path = f"{parent_path}/{context_id}"
        if level != 30:  # nothing lives under a user's context here
            self.context_paths[context_id] = path
        self.add(
            "context",
            {
                "id": context_id,
                "contextlevel": level,
                "instanceid": instance,
                "path": path,
                "depth": path.count("/"),
                "locked": 0,
            },
        )
        return context_id

    def context_path(self, context_id: int) -> str:
        return self.context_paths[context_id]

    def new_user(
        self,
        username: str,
        firstname: str,
        lastname: str,
        created_at: int,
        auth: str = "manual",
        email: str | None = None,
    ) -> int:
        user_id = self.ids.next("user")
        row = {
            "id": user_id,
            "auth": auth,
            "confirmed": 1,
            "mnethostid": 1,
            "username": username,
            "password": "$2y$10$" + _md5(username)[:22],
            "idnumber": "",
            "firstname": firstname,
            "lastname": lastname,
            "email": email or f"{username}@example.edu",
            # One person in EMAIL_STOP_EVERY turned off e-mail from the site.
            "emailstop": 1 if user_id % EMAIL_STOP_EVERY == 0 else 0,
            "city": "",
            "country": "",
            "lang": "en",
            "timezone": "99",
            "lastip": "",
            "secret": "",
            "theme": "",
            "description": "",
            "timecreated": created_at,
            "timemodified": created_at,
        }
        self.add("user", row)
        self.new_context(30, user_id, "/1")
        return user_id

    def person(self, created_at: int) -> int:
        first = FIRST_NAMES[int(self.rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(self.rng.integers(len(LAST_NAMES)))]
        number = self.ids.peek("user")
        username = f"{first[0]}{last}{number}".lower()
        return self.new_user(
            username, first, last, created_at, email=f"{first}.{last}{number}@example.edu".lower()
        )

    def enrol(
        self,
        course: Course,
        user_id: int,
        method: str,
        role_id: int,
        start: int,
        end: int,
        created: int,
        status: int = 0,
    ) -> tuple[int, int]:
        ue_id = self.ids.next("user_enrolments")
        self.add(
            "user_enrolments",
            {
                "id": ue_id,
                "status": status,
                "enrolid": course.enrol_ids[method],
                "userid": user_id,
                "timestart": start,
                "timeend": end,
                "modifierid": user_id if method in ("self", "fee") else ADMIN_USER_ID,
                "timecreated": created,
                "timemodified": created,
            },
        )
        ra_id = self.ids.next("role_assignments")
        self.add(
            "role_assignments",
            {
                "id": ra_id,
                "roleid": role_id,
                "contextid": course.context_id,
                "userid": user_id,
                "timemodified": created,
                "modifierid": user_id if method in ("self", "fee") else ADMIN_USER_ID,
                "component": "",
                "itemid": 0,
                "sortorder": 0,
            },
        )
        return ue_id, ra_id

    def add_grade_item(
        self,
        course: Course,
        created: int,
        itemtype: str,
        module: str | None,
        instance: int | None,
        grademax: float,
        gradepass: float,
        itemname: str | None = None,
    ) -> int:
        item_id = self.ids.next("grade_items")
        self.add(
            "grade_items",
            {
                "id": item_id,
                "courseid": course.id,
                "categoryid": None if itemtype == "course" else course.grade_category_id,
                "itemname": itemname,
                "itemtype": itemtype,
                "itemmodule": module,
                "iteminstance": course.grade_category_id if itemtype == "course" else instance,
                "itemnumber": 0 if itemtype == "mod" else None,
                "gradetype": 1,
                "grademax": grademax,
                "grademin": 0.0,
                "gradepass": gradepass,
                "sortorder": item_id,
                "timecreated": created,
                "timemodified": created,
            },
        )
        return item_id

    def frames(self) -> dict[str, pd.DataFrame]:
        """The learner-scale tables as frames (ids 1, 2, ...), once everything is added."""
        frames = {table: buffer.to_frame() for table, buffer in self.buffers.items()}
        self.buffers.clear()
        for table, frame in frames.items():
            # Rows were added in id order from 1, so a row's position is its id - 1.
            assert (frame["id"].to_numpy() == np.arange(1, len(frame) + 1)).all(), table
        return frames


class SiteBuilder:
    def __init__(self, config: DemoConfig, rng: np.random.Generator):
        self.config = config
        self.rng = rng
        self.rows = SiteRows(rng)
        self.term_starts = config.term_starts()
        self.site_created_at = self.term_starts[0] - 10 * WEEK

    def build(self) -> Site:
        # Imported here: they build on the rows and classes defined above.
        from moodle_analytics.demo.courses import CourseBuilder
        from moodle_analytics.demo.enrolments import EnrolmentPlanner
        from moodle_analytics.demo.groups import add_groups

        self.add_system()
        self.add_staff()
        self.add_categories()
        courses = CourseBuilder(
            self.rows, self.config, self.rng, self.teacher_ids, self.category_context
        )
        courses.add_courses()
        planner = EnrolmentPlanner(self.rows, self.config, self.rng, courses.courses)
        learner_courses = planner.plan_enrolments()
        add_groups(self.rows, courses.courses, learner_courses, self.config.as_of_epoch)
        return Site(
            config=self.config,
            ids=self.rows.ids,
            tables=self.rows.tables,
            frames=self.rows.frames(),
            courses=courses.courses,
            admin_ids=[ADMIN_USER_ID],
            manager_ids=self.manager_ids,
            teacher_ids=self.teacher_ids,
            learner_courses=learner_courses,
            site_created_at=self.site_created_at,
        )

    def add_system(self) -> None:
        self.rows.ids.next("context")  # the system context is id 1
        self.rows.context_paths[SYSTEM_CONTEXT_ID] = "/1"
        self.rows.add(
            "context",
            {"id": 1, "contextlevel": 10, "instanceid": 0, "path": "/1", "depth": 1, "locked": 0},
        )
        for role_id, shortname, archetype in ROLES:
            self.rows.ids.next("role")
            self.rows.add(
                "role",
                {
                    "id": role_id,
                    "name": "",
                    "shortname": shortname,
                    "description": "",
                    "sortorder": role_id,
                    "archetype": archetype,
                },
            )
        for name in MODULE_NAMES:
            self.rows.add(
                "modules",
                {"id": self.rows.ids.next("modules"), "name": name, "visible": 1, "search": ""},
            )
        created = self.site_created_at
        self.rows.new_user(
            "guest", "Guest user", " ", created, auth="manual", email="root@localhost"
        )
        self.rows.new_user("admin", "Admin", "User", created, email="admin@example.edu")
        # The front page is course 1, in category 0, format "site"; its idnumber
        # marks the demo site and carries its pseudonym secret (docs/privacy.md).
        self.rows.ids.next("course")
        self.rows.new_context(50, SITE_COURSE_ID, "/1")
        self.rows.add(
            "course",
            {
                "id": SITE_COURSE_ID,
                "category": 0,
                "fullname": "Example University Moodle",
                "shortname": "EUM",
                "idnumber": demo_marker(self.config.pseudonym_secret),
                "summary": "",
                "format": "site",
                "startdate": 0,
                "enddate": 0,
                "timecreated": created,
                "timemodified": created,
                "lang": "",
                "calendartype": "",
                "theme": "",
                "newsitems": 3,
            },
        )

    def add_staff(self) -> None:
        created = self.site_created_at + DAY
        self.manager_ids = [self.rows.person(created) for _ in range(2)]
        needed = max(3, round(self.config.courses_per_term * 1.2))
        self.teacher_ids = [self.rows.person(created) for _ in range(needed)]
        for manager in self.manager_ids:
            self.rows.add(
                "role_assignments",
                {
                    "id": self.rows.ids.next("role_assignments"),
                    "roleid": 1,
                    "contextid": SYSTEM_CONTEXT_ID,
                    "userid": manager,
                    "timemodified": created,
                    "modifierid": ADMIN_USER_ID,
                    "component": "",
                    "itemid": 0,
                    "sortorder": 0,
                },
            )

    def add_categories(self) -> None:
        self.category_context: dict[int, int] = {}
        tree = [
            ("Faculty of Science and Technology", None),
            ("Faculty of Business and Humanities", None),
        ]
        tree += [("Undergraduate", 1), ("Professional programmes", 1), ("Undergraduate", 2)]
        tree += [("Professional programmes", 2), ("Open courses", None)]
        for index, (name, parent) in enumerate(tree, start=1):
            parent_path = "" if parent is None else f"/{parent}"
            parent_context_path = (
                "/1" if parent is None else self.rows.context_path(self.category_context[parent])
            )
            depth = 1 if parent is None else 2
            self.rows.ids.next("course_categories")
            self.category_context[index] = self.rows.new_context(40, index, parent_context_path)
            self.rows.add(
                "course_categories",
                {
                    "id": index,
                    "name": name,
                    "idnumber": "",
                    "description": "",
                    "parent": parent or 0,
                    "sortorder": index * 10000,
                    "coursecount": 0,
                    "visible": 1,
                    "visibleold": 1,
                    "timemodified": self.site_created_at,
                    "depth": depth,
                    "path": f"{parent_path}/{index}",
                },
            )


def build_site(config: DemoConfig, rng: np.random.Generator) -> Site:
    return SiteBuilder(config, rng).build()
