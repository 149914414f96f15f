"""Moodle's tables written from the interpreted downloads: users, contexts,
course sections, activities, role assignments, enrolments and the log."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from moodle_analytics.logs_report.common import (
    CATEGORY_CONTEXT_ID,
    EDITING_TEACHER_ROLE_ID,
    IMPORT_CATEGORY_ID,
    ROLES,
    SITE_COURSE_ID,
    STUDENT_ROLE_ID,
    SYSTEM_CONTEXT_ID,
)
from moodle_analytics.logs_report.coursework import attempt_rows, submission_rows
from moodle_analytics.logs_report.report_format import MODULE_DISPLAY_NAMES
from moodle_analytics.moodle_tables import MOODLE_TABLES

# Activity modules in Moodle's alphabetical install order; others are appended.
MODULE_NAMES = sorted(MODULE_DISPLAY_NAMES)
# Module tables need these NOT NULL columns that have no default.
INSTANCE_REQUIRED = {
    "quiz": {"intro": ""},
    "assign": {"intro": ""},
    "forum": {"intro": ""},
    "feedback": {"intro": "", "page_after_submit": ""},
    "url": {"externalurl": ""},
}
HALF_YEAR_SECONDS = 183 * 24 * 3600
NEWS_FORUM_NAMES = {"announcements", "news forum", "site announcements"}


class TableSteps:
    """The steps of an import (LogsReportImport) that write Moodle's tables."""

    def build_tables(self, frame, courses, modules, names, masked_ids, learners, teachers):
        user_ids = set(names) | masked_ids
        for people in (*learners.values(), *teachers.values()):
            user_ids |= people
        user_ids -= {0}
        self.tables["user"] = self.user_rows(frame, user_ids, names)
        context_of = self.context_rows(courses, modules, user_ids)
        course_start = self.course_rows(frame, courses, learners)
        self.activity_rows(courses, modules, course_start)
        self.role_rows(frame, courses, learners, teachers, user_ids, context_of, course_start)
        submissions, submission_ids = submission_rows(
            frame, self.mapper.catalogue, self.instance_of
        )
        attempts, attempt_ids = attempt_rows(frame, self.instance_of, learners)
        self.tables["assign_submission"] = submissions
        self.tables["quiz_attempts"] = attempts
        frame["work_objectid"] = submission_ids.fillna(attempt_ids)
        self.tables["logstore_standard_log"] = self.log_table(frame, context_of)

    def user_rows(self, frame, user_ids: set[int], names: dict[int, str]) -> pd.DataFrame:
        acting = frame.groupby("userid")["epoch"].agg(["min", "max"])
        users = []
        for user in sorted(user_ids):
            first, _, last = names.get(user, "").partition(" ")
            details = self.user_details.get(user, {})
            row = {
                "id": user,
                "auth": "manual",
                "confirmed": 1,
                "mnethostid": 1,
                "username": f"user{user}",
                "firstname": details.get("firstname") or first,
                "lastname": details.get("lastname") or last,
                "email": details.get("email", ""),
                "idnumber": details.get("idnumber", ""),
                "institution": details.get("institution", ""),
                "department": details.get("department", ""),
                "description": "",
            }
            if user in acting.index:
                row["firstaccess"] = int(acting.loc[user, "min"])
                row["lastaccess"] = int(acting.loc[user, "max"])
            users.append(row)
        return pd.DataFrame(users)

    def context_rows(self, courses, modules, user_ids) -> dict[tuple[int, int], int]:
        """Contexts of the system, the import's category, courses, activities and users;
        returns (context level, instance id) -> context id."""
        contexts = [
            {
                "id": SYSTEM_CONTEXT_ID,
                "contextlevel": 10,
                "instanceid": 0,
                "path": "/1",
                "depth": 1,
            },
            {
                "id": CATEGORY_CONTEXT_ID,
                "contextlevel": 40,
                "instanceid": IMPORT_CATEGORY_ID,
                "path": f"/1/{CATEGORY_CONTEXT_ID}",
                "depth": 2,
            },
        ]
        context_of: dict[tuple[int, int], int] = {(10, 0): SYSTEM_CONTEXT_ID}

        def add(level: int, instance: int, parent_path: str) -> str:
            context_id = len(contexts) + 1
            path = f"{parent_path}/{context_id}"
            contexts.append(
                {
                    "id": context_id,
                    "contextlevel": level,
                    "instanceid": instance,
                    "path": path,
                    "depth": path.count("/"),
                }
            )
            context_of[(level, instance)] = context_id
            return path

        course_path = {
            course: add(
                50, course, "/1" if course == SITE_COURSE_ID else f"/1/{CATEGORY_CONTEXT_ID}"
            )
            for course in courses
        }
        for cm in modules.itertuples():
            add(70, int(cm.cmid), course_path[cm.course])
        for user in sorted(user_ids):
            add(30, user, "/1")
        self.tables["context"] = pd.DataFrame(contexts)
        self.tables["course_categories"] = pd.DataFrame(
            [
                {
                    "id": IMPORT_CATEGORY_ID,
                    "name": "Imported from Logs report downloads",
                    "idnumber": "",
                    "description": "",
                    "sortorder": 10000,
                    "coursecount": len(courses),
                    "depth": 1,
                    "path": f"/{IMPORT_CATEGORY_ID}",
                }
            ]
        )
        return context_of

    def activity_rows(self, courses, modules, course_start) -> None:
        """modules, course_modules, sections (0 and one per planned week) and the module
        instance rows."""
        module_ids = {name: i + 1 for i, name in enumerate(MODULE_NAMES)}
        for name in sorted(set(modules["module"]) - set(module_ids)):
            module_ids[name] = len(module_ids) + 1
        self.tables["modules"] = pd.DataFrame(
            [{"id": i, "name": n, "visible": 1} for n, i in module_ids.items()]
        )
        section_of: dict[int, int] = {}
        sections = []
        for course in sorted(set(courses) - {SITE_COURSE_ID} | set(modules["course"])):
            section_of[course] = len(sections) + 1
            sequence = modules.loc[modules["course"] == course, "cmid"].astype(str)
            sections.append(
                {
                    "id": section_of[course],
                    "course": course,
                    "section": 0,
                    "summary": "",
                    "sequence": ",".join(sequence),
                    "timemodified": course_start.get(course, 0),
                }
            )
        # A weekly course has a section per week (activities stay in section 0:
        # the download does not say where they are).
        for course, weeks in sorted(self.planned_weeks.items()):
            for number in range(1, weeks + 1):
                sections.append(
                    {
                        "id": len(sections) + 1,
                        "course": course,
                        "section": number,
                        "summary": "",
                        "sequence": "",
                        "timemodified": course_start.get(course, 0),
                    }
                )
        self.tables["course_sections"] = pd.DataFrame(sections)
        instances: dict[str, list[dict]] = {}
        cm_rows = []
        self.instance_of: dict[int, tuple[str, int]] = {}
        for cm in modules.itertuples():
            rows = instances.setdefault(cm.module, [])
            instance = len(rows) + 1
            self.instance_of[int(cm.cmid)] = (cm.module, instance)
            row = {
                "id": instance,
                "course": int(cm.course),
                "name": cm.name,
                "timemodified": int(cm.added),
                **INSTANCE_REQUIRED.get(cm.module, {}),
            }
            if cm.module == "forum":
                row["type"] = "news" if cm.name.casefold() in NEWS_FORUM_NAMES else "general"
            rows.append(row)
            cm_rows.append(
                {
                    "id": int(cm.cmid),
                    "course": int(cm.course),
                    "module": module_ids[cm.module],
                    "instance": instance,
                    "section": section_of[int(cm.course)],
                    "added": int(cm.added),
                    "visible": 1,
                }
            )
        self.tables["course_modules"] = pd.DataFrame(cm_rows)
        # Modules without a table here (lesson, folder, ...) keep only course_modules rows.
        self.instance_rows = {m: rows for m, rows in instances.items() if m in MOODLE_TABLES}

    def role_rows(self, frame, courses, learners, teachers, user_ids, context_of, course_start):
        """Roles, and the role assignments and enrolments of each course's people."""
        self.tables["role"] = pd.DataFrame(
            [
                {
                    "id": i,
                    "name": "",
                    "shortname": s,
                    "description": "",
                    "sortorder": i,
                    "archetype": s,
                }
                for i, s in ROLES
            ]
        )
        enrol = self.tables["enrol"]
        enrol_of = dict(zip(enrol.get("courseid", []), enrol.get("id", []), strict=True))
        first_in_course = self.first_events(frame)
        assignments, enrolments = [], {}
        for course in courses:
            if course == SITE_COURSE_ID:
                continue
            for role, people in (
                (EDITING_TEACHER_ROLE_ID, teachers.get(course, set())),
                (STUDENT_ROLE_ID, learners.get(course, set())),
            ):
                for user in sorted(people & user_ids):
                    start = first_in_course.get((course, user), course_start[course])
                    assignments.append(
                        {
                            "id": len(assignments) + 1,
                            "roleid": role,
                            "contextid": context_of[(50, course)],
                            "userid": user,
                            "timemodified": start,
                        }
                    )
                    # One enrolment per person, whatever roles they hold.
                    enrolments[(course, user)] = {
                        "id": len(enrolments) + 1,
                        "status": 0,
                        "enrolid": enrol_of[course],
                        "userid": user,
                        "timestart": start,
                        "timeend": 0,
                        "timecreated": start,
                        "timemodified": start,
                    }
        self.tables["role_assignments"] = pd.DataFrame(assignments)
        rows = list(enrolments.values())
        for index, row in enumerate(rows, start=1):
            row["id"] = index
        self.tables["user_enrolments"] = pd.DataFrame(rows)

    def first_events(self, frame: pd.DataFrame) -> dict[tuple[int, int], int]:
        """(course, user) -> first time the user acts or is affected in the course.

        Clock errors (epoch 0 and times over half a year before the course's
        median time) are passed over, as they would date an enrolment wrongly."""
        acting = frame[["courseid", "userid", "epoch"]]
        affected = frame.loc[frame["relateduserid"].notna(), ["courseid", "relateduserid", "epoch"]]
        affected = affected.rename(columns={"relateduserid": "userid"})
        both = pd.concat([acting, affected.astype({"userid": "int64"})])
        earliest = both.groupby("courseid")["epoch"].transform("median") - HALF_YEAR_SECONDS
        both = both[(both["epoch"] >= earliest) & (both["epoch"] > 0)]
        first = both.groupby(["courseid", "userid"])["epoch"].min()
        return {(int(c), int(u)): int(e) for (c, u), e in first.items()}

    def log_table(self, frame: pd.DataFrame, context_of) -> pd.DataFrame:
        frame = frame.sort_values(["epoch", "order"], ascending=[True, False], kind="stable")
        frame = frame.reset_index(drop=True)
        course = frame["courseid"]
        cmid = frame["cmid"]
        level = pd.Series(frame["e_level"].to_numpy(), index=frame.index)
        kind = frame["ctx_kind"]
        unknown = ~frame["known"]
        level[unknown] = np.select(
            [
                (kind[unknown] == "module") & cmid[unknown].notna(),
                kind[unknown].isin(["course", "front_page"]),
                kind[unknown] == "user",
                kind[unknown] == "system",
                cmid[unknown].notna(),
                course[unknown] > 0,
            ],
            [70, 50, 30, 10, 70, 50],
            default=10,
        )
        level[(level == 70) & cmid.isna()] = 50
        level[(level == 50) & (course == 0)] = 10
        objecttable = frame["e_objecttable"]
        objectid = frame["d_objectid"].fillna(frame["work_objectid"])
        # A module's view events point at its instance row, which the import creates.
        cm_key = cmid.astype("float64")
        instance_module = cm_key.map({cm: m for cm, (m, _) in self.instance_of.items()})
        cm_instance = cm_key.map({cm: i for cm, (_, i) in self.instance_of.items()})
        fill = objectid.isna() & (instance_module == objecttable).fillna(False).astype(bool)
        objectid[fill] = cm_instance[fill]
        fill_course = objectid.isna() & (objecttable == "course") & (course > 0)
        objectid[fill_course] = course[fill_course]
        related = frame["relateduserid"]
        user_instance = (
            objectid.where(objecttable == "user")
            .fillna(related.astype("float64"))
            .fillna(frame["userid"])
        )
        instance_id = np.select(
            [level == 70, level == 50, level == 30],
            [cmid.astype("float64").fillna(0), course, user_instance],
            default=0,
        ).astype("int64")
        context_id = [
            context_of.get((lv, inst), 0) for lv, inst in zip(level, instance_id, strict=True)
        ]
        other = frame["d_other"].copy()
        other[frame["known"] & other.isna()] = "null"
        other[unknown] = [
            json.dumps(
                {"logs_report_component": c, "logs_report_event_name": e}, ensure_ascii=False
            )
            for c, e in zip(
                frame.loc[unknown, "component"], frame.loc[unknown, "event"], strict=True
            )
        ]
        return pd.DataFrame(
            {
                "id": np.arange(1, len(frame) + 1, dtype="int64"),
                "eventname": frame["eventname"],
                "component": frame["e_component"],
                "action": frame["e_action"],
                "target": frame["e_target"],
                "objecttable": objecttable,
                "objectid": objectid.astype("Int64"),
                "crud": frame["e_crud"],
                "edulevel": frame["e_edulevel"].astype("int16"),
                "contextid": np.asarray(context_id, dtype="int64"),
                "contextlevel": level.astype("int64"),
                "contextinstanceid": instance_id,
                "userid": frame["userid"],
                "courseid": course,
                "relateduserid": related,
                "anonymous": np.zeros(len(frame), dtype="int16"),
                "other": other,
                "timecreated": frame["epoch"],
                "origin": frame["origin"].replace("", None),
                "ip": frame["ip"].replace("", None),
                "realuserid": frame["realuserid"],
            }
        )
