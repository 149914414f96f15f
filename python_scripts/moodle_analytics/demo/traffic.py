"""Traffic that is not a learner studying: teachers, guests, visitors, the admin.

Each course week its teachers log in, open the course, the logs report, the
participants and the grader report; guests look at courses that allow them;
visitors who are not logged in see the front page and fail to log in; the
admin changes a setting now and then and sometimes logs in as a learner
(rows with realuserid).
"""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.site import ADMIN_USER_ID, GUEST_USER_ID, SITE_COURSE_ID, Course
from moodle_analytics.demo.world import NO_END, VIEW_EVENT, Part


class Traffic(Part):
    def course_week(self, course: Course, week_start: int, in_break: bool = False) -> None:
        """A course week of its teachers and guests (teachers come less in a break)."""
        rng = self.rng
        for teacher in course.teacher_ids + course.assistant_ids:
            visits = int(rng.integers(0, 3) if in_break else rng.integers(2, 7))
            times = week_start + 60 + np.sort(rng.integers(0, WEEK - 600, visits))
            times = times[times < self.as_of]
            if len(times):
                self.teacher_visits(course, teacher, times)
        if course.guest_access:
            self.guest_visits(course, week_start)

    def teacher_visits(self, course: Course, teacher: int, times: np.ndarray) -> None:
        """Logins and course views; the logs, participants and grader reports once each."""
        log = self.log
        log.add(
            times - 40,
            teacher,
            "\\core\\event\\user_loggedin",
            0,
            objectid=teacher,
            other=log.encode_many(times - 40, {"username": self.world.usernames[teacher]}),
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

    def guest_visits(self, course: Course, week_start: int) -> None:
        visits = int(self.rng.integers(2, 8))
        times = week_start + self.rng.integers(0, WEEK, visits)
        times = times[times < self.as_of]
        self.log.add(times, GUEST_USER_ID, "\\core\\event\\course_viewed", course.id)
        first_page = next(a for a in course.activities if a.module == "page")
        self.log.add(
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
        usernames = self.world.usernames[rng.integers(1, len(self.world.usernames), len(failed))]
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
            for c in self.world.site.courses
            if c.start_at and c.start_at <= t < c.start_at + c.weeks * WEEK
        ]
        if not course_ids or t >= self.as_of:
            return
        course_id = course_ids[int(rng.integers(len(course_ids)))]
        members = self.world.states[course_id].learners
        # Moodle lets them into the course only while the learner's enrolment is active.
        end = lc["enrol_end"][members]
        suspended = self.world.lc_suspended_at[members]
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
                t,
                {"originalusername": "admin", "loggedinasusername": self.world.usernames[learner]},
            ),
        )
        log.add(t + 20, learner, "\\core\\event\\course_viewed", course_id, realuser=ADMIN_USER_ID)
        activity = self.world.courses[course_id].activities[3]
        log.add(
            t + 60,
            learner,
            VIEW_EVENT[activity.module],
            course_id,
            activity.cm_id,
            activity.instance_id,
            realuser=ADMIN_USER_ID,
        )
