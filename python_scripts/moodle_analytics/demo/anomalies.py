"""Bad log rows a real Moodle log can hold, injected so the quarantine has work."""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.config import DAY
from moodle_analytics.demo.world import Part


class Anomalies(Part):
    def inject(self) -> None:
        """Rows a real log can hold and an analysis must not trust."""
        count = self.world.config.anomalies_per_kind
        if not count:
            return
        rng, lc, log = self.rng, self.lc, self.log
        candidates = np.flatnonzero(lc["trajectory"] == "steady")
        picks = rng.choice(candidates, 5 * count)
        for k, lc_index in enumerate(picks):
            user = int(lc["user_id"][lc_index])
            course = self.world.courses[int(lc["course_id"][lc_index])]
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
