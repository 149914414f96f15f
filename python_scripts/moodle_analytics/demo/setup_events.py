"""What happened before the terms: accounts, courses, activities, calendar, enrolments.

Log rows of the site's setting up, dated when each row was created:
user_created, course_created (and a restore for a course offered again),
course_module_created, calendar_event_created, and for every enrolment
user_enrolment_created and role_assigned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moodle_analytics.demo.logbuffer import RESTORE, WEB
from moodle_analytics.demo.site import ADMIN_USER_ID, Activity, Course
from moodle_analytics.demo.world import HOUR, Part


class SetupEvents(Part):
    def play(self) -> None:
        users = self.world.frames["user"]
        created = users[users["id"] > ADMIN_USER_ID]
        ids = created["id"].to_numpy(dtype=np.int64)
        self.log.add(
            created["timecreated"].to_numpy(dtype=np.int64),
            ADMIN_USER_ID,
            "\\core\\event\\user_created",
            0,
            objectid=ids,
            related=ids,
        )
        self.courses_created()
        self.calendar_events_created()
        self.enrolments_created()

    def courses_created(self) -> None:
        """Each course and its activities; a later offering of the first course is a restore."""
        log = self.log
        course_created = {r["id"]: r["timecreated"] for r in self.world.tables["course"]}
        first_term_course = None
        for course in self.world.site.courses:
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
            for offset, activity in enumerate(course.activities):
                self.module_created(course, activity, created_at + HOUR + 120 * offset)
            if course.term_index == 0 and first_term_course is None:
                first_term_course = course
            elif (
                first_term_course
                and course.term_index > 0
                and course.code == first_term_course.code
            ):
                self.restored(course, first_term_course, created_at, course_created)

    def module_created(self, course: Course, activity: Activity, t: int, origin=WEB) -> None:
        self.log.add(
            t,
            course.teacher_ids[0],
            "\\core\\event\\course_module_created",
            course.id,
            activity.cm_id,
            activity.cm_id,
            origin=origin,
            other=self.log.encode_other(
                t,
                {
                    "modulename": activity.module,
                    "instanceid": activity.instance_id,
                    "name": activity.name,
                },
            ),
        )

    def calendar_events_created(self) -> None:
        for event in self.world.tables.get("event", []):
            t = event["timemodified"]
            self.log.add(
                t,
                event["userid"],
                "\\core\\event\\calendar_event_created",
                event["courseid"],
                objectid=event["id"],
                other=self.log.encode_other(
                    t, {"repeatid": 0, "timestart": event["timestart"], "name": event["name"]}
                ),
            )

    def enrolments_created(self) -> None:
        """Every enrolment logs its creation and the role it gives."""
        log, frames, courses = self.log, self.world.frames, self.world.courses
        enrol = pd.DataFrame(self.world.tables["enrol"])[["id", "enrol", "courseid"]]
        enrol = enrol.rename(columns={"id": "enrolid"})
        course_context = pd.DataFrame(
            {"courseid": list(courses), "contextid": [c.context_id for c in courses.values()]}
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
            self.module_created(course, activity, old_created + HOUR + 120 * offset, RESTORE)
        row = next(r for r in self.world.tables["course"] if r["id"] == course.id)
        row["originalcourseid"] = original.id
