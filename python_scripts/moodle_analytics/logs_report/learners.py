"""Who learns and who teaches in each course, from a roster or from the log.

Roles are not in the download. With a roster (a CSV of user ids or full
names) its people are the learners; a roster that lists no one, or no one the
downloads show, is an error. Without one they are inferred, per course:

* candidates: every user who acts in the course's rows or is their affected
  user (user id 0, "not logged in", and users named "Guest user" excluded);
* teachers: users who do a teaching event in the course - an event Moodle
  classes as teaching (edulevel 1) done to someone else's work or to the
  course as a whole (no affected user, or one other than the actor), such as
  grading, the grader report or the quiz reports - or who build the course
  (create activities or calendar events, view the course's log report), or
  who are given a teacher role (role id 3 or 4 of a standard Moodle) by a
  role assignment the log holds;
* other staff: users who enrol, unenrol or assign roles to someone else in the
  course, who are given a manager or course creator role (ids 1, 2), who log
  in as another user (anywhere), or who do site administration (create or
  restore courses, create or delete users, change settings);
* learners: the candidates who are neither teachers nor other staff, among
  the users the download shows to exist (a named download shows "-" for an
  id Moodle no longer has; such ids are no one's learners).

A learner's own teaching-classed events (e.g. viewing the summary of their own
quiz attempt, edulevel 1 in Moodle) do not make them a teacher.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from moodle_analytics.logs_report.reading import decode
from moodle_analytics.logs_report.report_format import normalise_header

COURSE_BUILDING_EVENTS = {
    "\\core\\event\\course_module_created",
    "\\core\\event\\calendar_event_created",
    "\\core\\event\\grade_item_updated",
    "\\report_log\\event\\report_viewed",
}
ENROLMENT_EVENTS = {
    "\\core\\event\\user_enrolment_created",
    "\\core\\event\\user_enrolment_updated",
    "\\core\\event\\user_enrolment_deleted",
    "\\core\\event\\role_assigned",
    "\\core\\event\\role_unassigned",
}
SITE_STAFF_EVENTS = {
    "\\core\\event\\course_created",
    "\\core\\event\\course_restored",
    "\\core\\event\\user_created",
    "\\core\\event\\user_deleted",
    "\\core\\event\\config_log_created",
    "\\core\\event\\user_loggedinas",
}
GUEST_NAMES = {"guest user"}
ROLE_ASSIGNED = "\\core\\event\\role_assigned"
# Standard Moodle role ids: manager, course creator, editing and non-editing teacher.
TEACHER_ROLE_IDS = {3, 4}
OTHER_STAFF_ROLE_IDS = {1, 2}


@dataclass
class CourseRoles:
    learners: dict[int, set[int]]  # course id -> user ids
    teachers: dict[int, set[int]]


def infer_roles(log: pd.DataFrame, names: dict[int, str], existing: set[int]) -> CourseRoles:
    """Learners and teachers of each course by the rule of the module docstring.

    log has one row per event with userid, relateduserid, realuserid,
    courseid, eventname, edulevel and objectid (the role id of role
    assignments); existing holds the users the download shows to exist."""
    actor = log["userid"]
    related = log["relateduserid"]
    on_others = related.isna() | (related != actor)
    site_staff = set(actor[log["eventname"].isin(SITE_STAFF_EVENTS)])
    site_staff |= set(log["realuserid"].dropna().astype("int64"))
    # Creating a course is teaching-classed too, but says nothing about who teaches it.
    teaching = (log["edulevel"] == 1) & on_others & ~log["eventname"].isin(SITE_STAFF_EVENTS)
    teaching |= log["eventname"].isin(COURSE_BUILDING_EVENTS)
    enrolling = log["eventname"].isin(ENROLMENT_EVENTS) & on_others
    assigned = log["eventname"] == ROLE_ASSIGNED
    given_teacher = assigned & log["objectid"].isin(TEACHER_ROLE_IDS)
    given_staff = assigned & log["objectid"].isin(OTHER_STAFF_ROLE_IDS)
    guests = {user for user, name in names.items() if name.strip().casefold() in GUEST_NAMES}
    learners: dict[int, set[int]] = {}
    teachers: dict[int, set[int]] = {}
    for course, rows in log[log["courseid"] > 0].groupby("courseid"):
        course = int(course)
        candidates = set(rows["userid"]) | set(rows["relateduserid"].dropna().astype("int64"))
        course_teachers = set(rows.loc[teaching[rows.index], "userid"])
        course_teachers |= set(rows.loc[given_teacher[rows.index], "relateduserid"].dropna())
        staff = course_teachers | set(rows.loc[enrolling[rows.index], "userid"]) | site_staff
        staff |= set(rows.loc[given_staff[rows.index], "relateduserid"].dropna())
        teachers[course] = {int(u) for u in course_teachers if u in existing} - guests
        learners[course] = {int(u) for u in candidates - staff if u in existing} - guests
    return CourseRoles(learners, teachers)


@dataclass(frozen=True)
class RosterEntry:
    user_id: int | None
    full_name: str | None
    course: str | None  # course id, short name or full name; None for every course


ID_HEADERS = {"id", "user id", "userid", "user_id", "moodle id"}
NAME_HEADERS = {"full name", "fullname", "name", "user full name", "user", "nom complet"}
FIRST_NAME_HEADERS = {"first name", "firstname", "prénom"}
LAST_NAME_HEADERS = {"last name", "lastname", "surname", "nom"}
COURSE_HEADERS = {"course", "course id", "courseid", "cours"}


class RosterError(ValueError):
    """A roster that lists no one, or no one the downloads know; the message names it."""


def read_roster(path: str | Path) -> list[RosterEntry]:
    """Learners listed in a CSV: a column of user ids or full names (with or
    without header; First name + Last name columns also work) and optionally a
    course column (id, short name or full name) for rosters of several courses.
    A roster without one learner (empty, or a header alone) is a RosterError."""
    rows = [row for row in csv.reader(decode(Path(path).read_bytes()).splitlines()) if row]
    entries = _roster_entries(rows) if rows else []
    if not entries:
        raise RosterError(f"roster {path} lists no learners (an empty file, or a header alone)")
    return entries


def _roster_entries(rows: list[list[str]]) -> list[RosterEntry]:
    header = [normalise_header(cell) for cell in rows[0]]

    def find(options: set[str]) -> int | None:
        return next((i for i, name in enumerate(header) if name in options), None)

    id_col, name_col = find(ID_HEADERS), find(NAME_HEADERS)
    first_col, last_col, course_col = (
        find(FIRST_NAME_HEADERS),
        find(LAST_NAME_HEADERS),
        find(COURSE_HEADERS),
    )
    has_header = any(c is not None for c in (id_col, name_col, first_col, course_col))
    if not has_header:
        id_col = 0 if all(re.fullmatch(r"\s*\d+\s*", row[0]) for row in rows) else None
        name_col = None if id_col == 0 else 0
    entries = []
    for row in rows[1:] if has_header else rows:

        def cell(index: int | None, row=row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        user_id = cell(id_col)
        name = cell(name_col)
        if not name and first_col is not None:
            name = f"{cell(first_col)} {cell(last_col)}".strip()
        if not user_id.isdigit() and not name:
            continue
        entries.append(
            RosterEntry(
                user_id=int(user_id) if user_id.isdigit() else None,
                full_name=name or None,
                course=cell(course_col) or None,
            )
        )
    return entries


def check_roster_matches(entries: list[RosterEntry], names: dict[int, str], path: Path) -> int:
    """How many roster learners the downloads never show (kept: learners who never took
    part). A roster none of whose learners is a user of the downloads (by id or full
    name) is not these courses' roster: RosterError, rather than that many made-up users."""
    known_names = set(names.values())
    unknown = [
        entry
        for entry in entries
        if entry.user_id not in names and (entry.full_name or "") not in known_names
    ]
    if len(unknown) == len(entries):
        raise RosterError(
            f"roster {path}: none of its {len(entries):,} learners (user ids or full names) "
            "is a user of the downloads; is it the roster of these courses?"
        )
    return len(unknown)
