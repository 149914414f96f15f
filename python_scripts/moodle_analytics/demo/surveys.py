"""The end-of-course feedback survey: anonymous responses, as Moodle logs them."""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.config import WEEK
from moodle_analytics.demo.gradebook import CourseState, Gradebook
from moodle_analytics.demo.site import Activity, _sigmoid
from moodle_analytics.demo.world import HOUR, VIEW_EVENT, Part, World


class Surveys(Part):
    def __init__(self, world: World, gradebook: Gradebook):
        super().__init__(world)
        self.gradebook = gradebook
        self.responses = 0  # feedback_completed ids

    def play(self, state: CourseState, survey: Activity, members, starts, level) -> None:
        rng, lc, log, course = self.rng, self.lc, self.log, state.course
        answers = rng.random(len(members)) < _sigmoid(0.5 + lc["engagement"][members])
        for i in np.flatnonzero(answers):
            t = int(starts[i] + rng.integers(HOUR, WEEK - HOUR))
            if t >= self.as_of:
                continue
            user = int(lc["user_id"][members[i]])
            self.responses += 1
            log.add(
                t - 300, user, VIEW_EVENT["feedback"], course.id, survey.cm_id, survey.instance_id
            )
            # Moodle marks responses to an anonymous feedback as anonymous log rows.
            log.add(
                t,
                user,
                "\\mod_feedback\\event\\response_submitted",
                course.id,
                survey.cm_id,
                self.responses,
                related=user,
                anonymous=1,
                other=log.encode_other(
                    t, {"anonymous": 1, "cmid": survey.cm_id, "instanceid": survey.instance_id}
                ),
            )
            if survey.completion == 2:
                self.gradebook.complete_activity(state, int(members[i]), survey.cm_id, t + 2, 1)
