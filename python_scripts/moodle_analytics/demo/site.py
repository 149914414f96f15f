"""The static part of the demo site: people, courses, activities, enrolments.

Everything here exists before anyone acts; simulate.py then plays the terms
week by week. Ids follow Moodle's conventions: user 1 is the guest, user 2 the
admin, course 1 the front page, context 1 the system context, roles 1-8 the
standard roles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from moodle_analytics.demo.config import DAY, WEEK, DemoConfig
from moodle_analytics.demo.tables import RowBuffer

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

# Installed activity modules, ids in Moodle's (alphabetical) install order.
MODULE_NAMES = [
    "assign", "bigbluebuttonbn", "book", "choice", "data", "feedback", "folder", "forum",
    "glossary", "h5pactivity", "imscp", "label", "lesson", "lti", "page", "qbank", "quiz",
    "resource", "scorm", "subsection", "url", "wiki", "workshop",
]  # fmt: skip
MODULE_IDS = {name: index + 1 for index, name in enumerate(MODULE_NAMES)}

# Programme courses in order, then electives. The code is the part of the
# course idnumber before the term, e.g. DS101-2026FA.
PROGRAMME_COURSES = {
    "DS": [("DS101", "Python Foundations"), ("DS102", "Statistics for Data Science"),
           ("DS201", "Machine Learning in Practice")],
    "BUS": [("BUS110", "Principles of Management"), ("BUS120", "Financial Accounting"),
            ("BUS210", "Marketing Analytics")],
}  # fmt: skip
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
        "firstname", "lastname", "email", "city", "country", "lang", "timezone", "lastip",
        "secret", "theme", "description", "timecreated", "timemodified",
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


class SiteBuilder:
    def __init__(self, config: DemoConfig, rng: np.random.Generator):
        self.config = config
        self.rng = rng
        self.ids = IdSequence()
        self.tables: dict[str, list[dict]] = {}
        self.buffers = {
            table: RowBuffer(table, columns) for table, columns in LEARNER_SCALE_COLUMNS.items()
        }
        self.context_paths: dict[int, str] = {}
        self.course_created_at: dict[int, int] = {}
        self.courses: list[Course] = []
        self.term_starts = config.term_starts()
        self.site_created_at = self.term_starts[0] - 10 * WEEK

    # ---------------------------------------------------------------- helpers
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

    # ------------------------------------------------------------------ build
    def build(self) -> Site:
        self.add_system()
        self.add_staff()
        self.add_categories()
        self.add_courses()
        learner_courses = self.plan_enrolments()
        frames = {table: buffer.to_frame() for table, buffer in self.buffers.items()}
        self.buffers.clear()
        for table, frame in frames.items():
            # Rows were added in id order from 1, so a row's position is its id - 1.
            assert (frame["id"].to_numpy() == np.arange(1, len(frame) + 1)).all(), table
        return Site(
            config=self.config,
            ids=self.ids,
            tables=self.tables,
            frames=frames,
            courses=self.courses,
            admin_ids=[ADMIN_USER_ID],
            manager_ids=self.manager_ids,
            teacher_ids=self.teacher_ids,
            learner_courses=learner_courses,
            site_created_at=self.site_created_at,
        )

    def add_system(self) -> None:
        self.ids.next("context")  # the system context is id 1
        self.context_paths[SYSTEM_CONTEXT_ID] = "/1"
        self.add(
            "context",
            {"id": 1, "contextlevel": 10, "instanceid": 0, "path": "/1", "depth": 1, "locked": 0},
        )
        for role_id, shortname, archetype in ROLES:
            self.ids.next("role")
            self.add(
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
            self.add(
                "modules",
                {"id": self.ids.next("modules"), "name": name, "visible": 1, "search": ""},
            )
        created = self.site_created_at
        self.new_user("guest", "Guest user", " ", created, auth="manual", email="root@localhost")
        self.new_user("admin", "Admin", "User", created, email="admin@example.edu")
        # The front page is course 1, in category 0, format "site".
        self.ids.next("course")
        front_context = self.new_context(50, SITE_COURSE_ID, "/1")
        self.add(
            "course",
            {
                "id": SITE_COURSE_ID,
                "category": 0,
                "fullname": "Example University Moodle",
                "shortname": "EUM",
                "idnumber": "",
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
        self.front_page_context = front_context

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

    def add_staff(self) -> None:
        created = self.site_created_at + DAY
        self.manager_ids = [self.person(created) for _ in range(2)]
        needed = max(3, round(self.config.courses_per_term * 1.2))
        self.teacher_ids = [self.person(created) for _ in range(needed)]
        for manager in self.manager_ids:
            self.add(
                "role_assignments",
                {
                    "id": self.ids.next("role_assignments"),
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
                "/1" if parent is None else self.context_path(self.category_context[parent])
            )
            depth = 1 if parent is None else 2
            self.ids.next("course_categories")
            self.category_context[index] = self.new_context(40, index, parent_context_path)
            self.add(
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

    def category_for(self, code: str) -> int:
        if code.startswith(("DS", "CS", "MAT", "SCI")):
            return 4 if code.startswith("DS") else 3
        return 6 if code.startswith("BUS") else 5

    def term_offerings(self, term_index: int) -> list[tuple[str, str]]:
        """Course codes offered in a term: programme stages first, electives fill the rest."""
        programme = []
        for stage in range(3):
            if term_index >= stage:
                programme += [courses[stage] for courses in PROGRAMME_COURSES.values()]
        offerings = programme[: self.config.courses_per_term]
        elective_index = term_index * 2
        while len(offerings) < self.config.courses_per_term:
            code, name = ELECTIVES[elective_index % len(ELECTIVES)]
            section = elective_index // len(ELECTIVES)
            if section:
                code, name = f"{code}{chr(ord('A') + section)}", f"{name} (group {section + 1})"
            offerings.append((code, name))
            elective_index += 1
        return offerings

    def add_courses(self) -> None:
        weeks = self.config.weeks_per_term
        course_index = 0
        for term_index, start in enumerate(self.term_starts):
            code_of_term = term_code(start)
            for code, name in self.term_offerings(term_index):
                end = start + weeks * WEEK
                # Every sixth course does not track completion; every course
                # that is the last of its term's electives has no end date.
                has_completion = course_index % 6 != 5
                no_end_date = course_index % 11 == 7
                self.new_course(
                    code,
                    name,
                    term_index,
                    start,
                    0 if no_end_date else end,
                    weeks,
                    has_completion,
                    f"{code}-{code_of_term}",
                    f"{code} {code_of_term}",
                    f"{name} ({code_of_term})",
                )
                course_index += 1
        # One self-paced course without start or end date: learners join at any
        # time and weeks count from their own enrolment.
        self.new_course(
            "OPEN100",
            "Study Skills for Online Learning",
            -1,
            0,
            0,
            8,
            True,
            "OPEN100",
            "OPEN100",
            "Study Skills for Online Learning (self-paced)",
        )

    def new_course(
        self,
        code: str,
        name: str,
        term_index: int,
        start: int,
        end: int,
        weeks: int,
        has_completion: bool,
        idnumber: str,
        shortname: str,
        fullname: str,
    ) -> Course:
        rng = self.rng
        course_id = self.ids.next("course")
        category = 7 if term_index < 0 else self.category_for(code)
        created = (start or self.term_starts[0]) - 4 * WEEK
        self.course_created_at[course_id] = created
        context_id = self.new_context(
            50, course_id, self.context_path(self.category_context[category])
        )
        course = Course(
            id=course_id,
            code=code,
            fullname=fullname,
            shortname=shortname,
            idnumber=idnumber,
            category_id=category,
            term_index=term_index,
            start_at=start,
            end_at=end,
            weeks=weeks,
            has_completion=has_completion,
            context_id=context_id,
        )
        # A grading scale of 0-20 in some courses makes normalisation matter.
        course.course_grademax = 20.0 if course_id % 5 == 0 else 100.0
        course.course_gradepass = round(
            course.course_grademax * (0.6 if course_id % 3 == 0 else 0.5), 5
        )
        course.guest_access = course_id % 4 == 1
        course.grades_missing_as_zero = course_id % 2 == 0
        lead = self.teacher_ids[(course_id + term_index) % len(self.teacher_ids)]
        course.teacher_ids = [lead]
        if rng.random() < 0.5:
            other = self.teacher_ids[(course_id * 7 + 3) % len(self.teacher_ids)]
            if other != lead:
                course.assistant_ids = [other]
        self.add(
            "course",
            {
                "id": course_id,
                "category": category,
                "sortorder": 10000 * category + course_id,
                "fullname": fullname,
                "shortname": shortname,
                "idnumber": idnumber,
                "summary": f"<p>{name}.</p>",
                "summaryformat": 1,
                "format": "topics" if course.is_self_paced else "weeks",
                "startdate": start,
                "enddate": end,
                "visible": 1,
                "lang": "",
                "calendartype": "",
                "theme": "",
                "timecreated": created,
                "timemodified": created,
                "enablecompletion": 1 if has_completion else 0,
                "showactivitydates": 1,
                "showcompletionconditions": 1 if has_completion else None,
                "cacherev": created,
            },
        )
        self.add_enrol_instances(course, created)
        self.add_gradebook(course, created)
        self.add_activities(course, created)
        self.add_staff_enrolments(course, created)
        self.courses.append(course)
        return course

    def add_enrol_instances(self, course: Course, created: int) -> None:
        # manual (institutional), self (free/audit track), fee (paid/verified
        # track), guest access (enabled in some courses).
        plans = [
            ("manual", 0, {}),
            ("guest", 0 if course.guest_access else 1, {}),
            ("self", 0, {"name": "Audit (free)", "customint6": 1}),
            ("fee", 0, {"name": "Verified certificate", "cost": "49.00", "currency": "EUR",
                        "customint1": 1}),
        ]  # fmt: skip
        for sortorder, (method, status, extra) in enumerate(plans):
            enrol_id = self.ids.next("enrol")
            course.enrol_ids[method] = enrol_id
            row = {
                "id": enrol_id,
                "enrol": method,
                "status": status,
                "courseid": course.id,
                "sortorder": sortorder,
                "roleid": STUDENT_ROLE_ID if method != "guest" else 0,
                "enrolperiod": 0,
                "enrolstartdate": 0,
                "enrolenddate": 0,
                "expirynotify": 0,
                "expirythreshold": 0,
                "notifyall": 0,
                "timecreated": created,
                "timemodified": created,
            }
            row.update(extra)
            self.add("enrol", row)

    def add_gradebook(self, course: Course, created: int) -> None:
        category_id = self.ids.next("grade_categories")
        course.grade_category_id = category_id
        self.add(
            "grade_categories",
            {
                "id": category_id,
                "courseid": course.id,
                "parent": None,
                "depth": 1,
                "path": f"/{category_id}/",
                "fullname": "?",
                # 0 = mean of grades, only graded items count
                "aggregation": 0,
                "aggregateonlygraded": 1,
                "timecreated": created,
                "timemodified": created,
            },
        )
        course.course_grade_item_id = self.add_grade_item(
            course, created, "course", None, None, course.course_grademax, course.course_gradepass
        )

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

    def add_activities(self, course: Course, created: int) -> None:
        weeks = course.weeks
        section_ids: dict[int, int] = {}
        for section in range(weeks + 1):
            section_ids[section] = self.ids.next("course_sections")
        sequences: dict[int, list[int]] = {s: [] for s in section_ids}

        def week_start(week: int) -> int:
            return course.start_at + (week - 1) * WEEK if course.start_at else 0

        def add(module: str, section: int, name: str, **settings) -> Activity:
            instance_id = self.ids.next(module)
            cm_id = self.ids.next("course_modules")
            context_id = self.new_context(70, cm_id, self.context_path(course.context_id))
            activity = Activity(
                cm_id=cm_id,
                course_id=course.id,
                module=module,
                instance_id=instance_id,
                name=name,
                week=section,
                context_id=context_id,
                **settings,
            )
            course.activities.append(activity)
            sequences[section].append(cm_id)
            return activity

        add("forum", 0, "Announcements", forum_type="news")
        add("forum", 0, "Course discussion", forum_type="general")
        add("url", 0, "Course syllabus")
        topic = "Topic" if course.is_self_paced else "Week"
        for week in range(1, weeks + 1):
            add("page", week, f"{topic} {week}: reading")
            add("resource", week, f"{topic} {week}: slides")
            if week % 2 == 0 or course.is_self_paced:
                quiz_number = week if course.is_self_paced else week // 2
                opens = week_start(week)
                add(
                    "quiz",
                    week,
                    f"Quiz {quiz_number}",
                    opens_at=opens,
                    due_at=opens + WEEK + 2 * DAY if opens else 0,
                    grademax=10.0,
                    gradepass=0.0 if course.id % 4 == 2 else 6.0,
                    max_attempts=0 if quiz_number % 2 == 0 else 2,
                )
            if not course.is_self_paced and (week % 3 == 0 or week == weeks):
                due = week_start(week) + 4 * DAY + 23 * 3600 + 59 * 60
                final = week == weeks
                add(
                    "assign",
                    week,
                    "Final project" if final else f"Assignment {week // 3}",
                    opens_at=week_start(max(1, week - 2)),
                    due_at=due,
                    cutoff_at=due + 7 * DAY if week % 2 == 0 else 0,
                    grademax=100.0,
                    gradepass=0.0 if course.id % 4 == 3 else 50.0,
                    max_attempts=2 if week % 2 == 1 else 1,
                )
        if not course.is_self_paced:
            add("feedback", weeks, "End of course survey", anonymous=True)

        for activity in course.activities:
            self.add_activity_rows(course, activity, section_ids, created)
        # Completion asks for every assignment handed in (the self-paced course
        # has none: its quizzes); the course grade is added when it settles.
        if course.has_completion:
            required = [a for a in course.activities if a.module == "assign"] or [
                a for a in course.activities if a.module == "quiz"
            ]
            for activity in required:
                self.add(
                    "course_completion_criteria",
                    {
                        "id": self.ids.next("course_completion_criteria"),
                        "course": course.id,
                        "criteriatype": 4,  # activity completion
                        "module": activity.module,
                        "moduleinstance": activity.cm_id,
                    },
                )
        for section, section_id in section_ids.items():
            self.add(
                "course_sections",
                {
                    "id": section_id,
                    "course": course.id,
                    "section": section,
                    "name": None if section == 0 else f"{topic} {section}",
                    "summary": "",
                    "summaryformat": 1,
                    "sequence": ",".join(str(cm) for cm in sequences[section]),
                    "visible": 1,
                    "timemodified": created,
                },
            )

    def add_activity_rows(
        self, course: Course, activity: Activity, section_ids: dict[int, int], created: int
    ) -> None:
        module = activity.module
        tracked = course.has_completion
        completion, completion_view, expected, pass_grade = 0, 0, 0, 0
        instance = {
            "id": activity.instance_id,
            "course": course.id,
            "name": activity.name,
            "intro": "",
            "introformat": 1,
            "timemodified": created,
        }
        if module == "page":
            instance.update(
                content=f"<p>{activity.name}</p>", contentformat=1, display=5, revision=1
            )
            if tracked:
                completion, completion_view = 2, 1
                if course.id % 2 == 1 and course.start_at:
                    expected = course.start_at + activity.week * WEEK - 1
        elif module == "resource":
            instance.update(display=0, revision=1)
            completion = 1 if tracked else 0
        elif module == "url":
            instance.update(externalurl="https://example.edu/syllabus", display=0)
        elif module == "forum":
            instance.update(
                type=activity.forum_type, forcesubscribe=1 if activity.forum_type == "news" else 0
            )
        elif module == "feedback":
            instance.update(anonymous=1, page_after_submit="", completionsubmit=1 if tracked else 0)
            completion = 2 if tracked else 0
        elif module == "quiz":
            instance.update(
                timeopen=activity.opens_at,
                timeclose=activity.due_at,
                timelimit=1800,
                attempts=activity.max_attempts,
                grademethod=1,
                sumgrades=20.0,
                grade=activity.grademax,
                preferredbehaviour="deferredfeedback",
                timecreated=created,
            )
            if tracked:
                completion, expected = 2, activity.due_at
                pass_grade = 1 if activity.gradepass > 0 else 0
        elif module == "assign":
            instance.update(
                alwaysshowdescription=1,
                submissiondrafts=1 if course.id % 3 == 0 else 0,
                duedate=activity.due_at,
                allowsubmissionsfromdate=activity.opens_at,
                grade=int(activity.grademax),
                cutoffdate=activity.cutoff_at,
                gradingduedate=activity.due_at + 7 * DAY,
                completionsubmit=1 if tracked else 0,
                attemptreopenmethod="untilpass" if activity.max_attempts > 1 else "none",
                maxattempts=activity.max_attempts,
            )
            if tracked:
                completion, expected = 2, activity.due_at
        activity.completion = completion
        self.add(module, instance)
        if module in ("quiz", "assign"):
            activity.grade_item_id = self.add_grade_item(
                course, created, "mod", module, activity.instance_id,
                activity.grademax, activity.gradepass, activity.name,
            )  # fmt: skip
        self.add(
            "course_modules",
            {
                "id": activity.cm_id,
                "course": course.id,
                "module": MODULE_IDS[module],
                "instance": activity.instance_id,
                "section": section_ids[activity.week],
                "idnumber": "",
                "added": created,
                "visible": 1,
                "visibleoncoursepage": 1,
                "visibleold": 1,
                "completion": completion,
                "completionview": completion_view,
                "completionexpected": expected,
                "completionpassgrade": pass_grade,
                "completiongradeitemnumber": 0 if pass_grade else None,
                "downloadcontent": 1,
            },
        )
        self.add_calendar_events(course, activity, expected)

    def add_calendar_events(self, course: Course, activity: Activity, expected: int) -> None:
        teacher = course.teacher_ids[0]
        events = []
        if activity.module == "assign" and activity.due_at:
            events.append(("due", f"{activity.name} is due", activity.due_at, 1))
            events.append(("gradingdue", f"{activity.name} is due to be graded",
                           activity.due_at + 7 * DAY, 1))  # fmt: skip
        if activity.module == "quiz" and activity.due_at:
            events.append(("open", f"{activity.name} opens", activity.opens_at, 0))
            events.append(("close", f"{activity.name} closes", activity.due_at, 1))
        for eventtype, name, time, event_type in events:
            self.calendar_event(course.id, teacher, name, time, eventtype, activity, event_type)
        if expected and activity.module == "page":
            self.calendar_event(
                course.id, teacher, f"{activity.name} should be completed",
                expected, "expectcompletionon", activity, 1,
            )  # fmt: skip

    def calendar_event(
        self,
        course_id: int,
        user_id: int,
        name: str,
        time: int,
        eventtype: str,
        activity: Activity | None = None,
        event_type: int = 0,
    ) -> None:
        self.add(
            "event",
            {
                "id": self.ids.next("event"),
                "name": name,
                "description": "",
                "format": 1,
                "courseid": course_id,
                "userid": user_id,
                "component": f"mod_{activity.module}" if activity else None,
                "modulename": activity.module if activity else "",
                "instance": activity.instance_id if activity else 0,
                "type": event_type,
                "eventtype": eventtype,
                "timestart": time,
                "timeduration": 0,
                "timesort": time,
                "visible": 1,
                "timemodified": self.course_created_at[course_id] + 3600,
            },
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

    def add_staff_enrolments(self, course: Course, created: int) -> None:
        for teacher in course.teacher_ids:
            self.enrol(course, teacher, "manual", TEACHER_ROLE_ID, 0, 0, created)
        for assistant in course.assistant_ids:
            self.enrol(course, assistant, "manual", NON_EDITING_TEACHER_ROLE_ID, 0, 0, created)

    # ------------------------------------------------------------ enrolments
    def plan_enrolments(self) -> dict[str, np.ndarray]:
        """Who takes which course, and how each learner-course is designed to go."""
        rng = self.rng
        config = self.config
        learner_ability: dict[int, tuple[float, float]] = {}
        pool: list[int] = []
        records: list[tuple] = []
        passed: dict[int, set[str]] = {}

        def new_learner(created: int) -> int:
            user_id = self.person(created)
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
        ue_id, ra_id = self.enrol(course, user_id, method, STUDENT_ROLE_ID, start, end, enrolled_at)
        return (
            user_id, course.id, method, trajectory, last_week, engagement, ability,
            enrolled_at, first_week, ue_id, bool(rng.random() < 0.2), start, end, ra_id,
        )  # fmt: skip


def build_site(config: DemoConfig, rng: np.random.Generator) -> Site:
    return SiteBuilder(config, rng).build()
