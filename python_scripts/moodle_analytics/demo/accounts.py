"""Enrolments and accounts that change while the terms run, and how they stand at the end.

A teacher suspends some learners who faded out; some accounts of learners
whose courses are long over are deleted (Moodle's delete_user: enrolments
and roles go, the user row stays with deleted=1 and a scrambled username,
the log stays); a few accounts end suspended site-wide; one learner is made
non-editing teacher in a running course. settle() writes user and enrolment
rows as they stand at the as-of moment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.site import (
    ADMIN_USER_ID,
    NON_EDITING_TEACHER_ROLE_ID,
    STUDENT_ROLE_ID,
    _md5,
)
from moodle_analytics.demo.world import HOUR, Part, World


class Accounts(Part):
    def __init__(self, world: World):
        super().__init__(world)
        ue = world.frames["user_enrolments"]
        # user_enrolments status and timemodified as they change (row: id - 1)
        self.ue_status = ue["status"].to_numpy(dtype=np.int64).copy()
        self.ue_modified = ue["timemodified"].to_numpy(dtype=np.int64).copy()
        self.deleted_at: dict[int, int] = {}
        # Known once settled:
        self.promoted_lc = -1  # the learner-course whose learner became staff there
        self.deleted_users: set[int] = set()
        self.suspended_users: set[int] = set()

    def plan_enrolment_changes(self) -> None:
        """Who gets suspended by a teacher and which accounts are deleted, and when."""
        rng, lc = self.rng, self.lc
        for lc_index in np.flatnonzero(lc["trajectory"] == "fade_out"):
            course = self.world.courses[int(lc["course_id"][lc_index])]
            if course.is_self_paced or rng.random() > 0.15:
                continue
            t = course.start_at + (int(lc["last_active_week"][lc_index]) + 2) * WEEK + 10 * HOUR
            if t < self.as_of:
                self.world.lc_suspended_at[lc_index] = t
        # Deleted users: Moodle keeps the user row (deleted=1, username and
        # email scrambled) and the log, and removes enrolments and roles.
        ends = np.array(
            [
                c.end_at or (c.start_at + c.weeks * WEEK if c.start_at else self.as_of)
                for c in (self.world.courses[int(i)] for i in lc["course_id"])
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
            (self.world.lc_suspended_at >= week_start) & (self.world.lc_suspended_at < week_end)
        )
        for lc_index in due:
            course = self.world.courses[int(lc["course_id"][lc_index])]
            t = int(self.world.lc_suspended_at[lc_index])
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
        log = self.log
        users = self.world.frames["user"]
        row = users.index[user_id - 1]
        username, email = users.at[row, "username"], users.at[row, "email"]
        for lc_index in np.flatnonzero(self.lc["user_id"] == user_id):
            self.unenrol(int(lc_index), t)
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
        columns = ["deleted", "username", "email", "idnumber", "picture", "timemodified"]
        users.loc[row, columns] = [1, f"{email}.{t}", _md5(username), "", 0, t]

    def unenrol(self, lc_index: int, t: int) -> None:
        """The log rows of removing a learner's role and enrolment in a course."""
        log, lc = self.log, self.lc
        user_id = int(lc["user_id"][lc_index])
        course = self.world.courses[int(lc["course_id"][lc_index])]
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
        userenrolment = {
            "id": ue_id,
            "enrolid": course.enrol_ids[method],
            "userid": user_id,
            "courseid": course.id,
            "lastenrol": True,
        }
        log.add(
            t,
            ADMIN_USER_ID,
            "\\core\\event\\user_enrolment_deleted",
            course.id,
            objectid=ue_id,
            related=user_id,
            other=log.encode_other(t, {"userenrolment": userenrolment, "enrol": method}),
        )

    def settle(self) -> None:
        """Enrolment and user rows as they stand at the as-of moment."""
        rng, lc, frames = self.rng, self.lc, self.world.frames
        ue = frames["user_enrolments"]
        ue["status"], ue["timemodified"] = self.ue_status, self.ue_modified
        self.promote_a_learner()
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
        self.settle_users()

    def promote_a_learner(self) -> None:
        """A learner promoted to non-editing teacher in a running course keeps
        the student role too; staff in the course are not learners."""
        lc, frames = self.lc, self.world.frames
        last_term = self.world.config.terms - 1
        course = next(c for c in self.world.site.courses if c.term_index == last_term)
        self.promoted_lc = int(self.world.states[course.id].learners[0])
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

    def settle_users(self) -> None:
        """Suspension, deletion and access columns of the user rows."""
        users = self.world.frames["user"]
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
