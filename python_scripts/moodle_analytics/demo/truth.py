"""The designed truth of every learner-course, kept out of Moodle's tables.

One row per learner-course (a learner's enrolment in a course), written to
its own CSV beside the Moodle database: the designs the generator drew
(trajectory, persona, latent traits) and the outcome as a school holds it (the
final grade and pass or fail). The models never read it; it is there to judge
them. TRUTH_COLUMNS says what each column means (docs/demo-data.md repeats it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moodle_analytics.demo.personas import PERSONA_NAMES
from moodle_analytics.demo.simulate import Simulation
from moodle_analytics.pseudonyms import pseudonym

TRUTH_COLUMNS = {
    "user_id": "the learner's mdl_user.id",
    "course_id": "the course's mdl_course.id",
    "learner_id": "the learner's pseudonymous learner_id under the demo's own secret",
    "course_idnumber": "the course's idnumber (code and term, e.g. DS101-2026FA)",
    "term_index": "0 for the oldest term, up to terms - 1 for the running one; -1 self-paced",
    "enrol_method": "manual, self (free track) or fee (paid track)",
    "trajectory": "steady, fade_out (stops after last_active_week) or never_start",
    "persona": "engaged, efficient (quiet but does the work) or struggling (busy, weak work)",
    "designed_dropout": "true for fade_out and never_start: no activity in the last quarter",
    "last_active_week": "last course week with activity by design (0 never, weeks if steady)",
    "first_week": "course week the learner joins (late joiners start in week 2 or 3)",
    "break_week": "course week of the course's break (reading week, Easter); 0 for none",
    "latent_engagement": "the learner-course's engagement trait (drives how often they come)",
    "latent_ability": "the learner-course's ability trait (drives their grades)",
    "final_grade": "course total in Moodle's gradebook at the snapshot, missing work as 0",
    "grade_max": "the course total's maximum (100 or 20)",
    "pass_grade": "the course total's pass grade",
    "passed": "final_grade >= pass_grade; empty while the course runs",
    "outcome": "passed, failed, dropped_out, never_started or in_progress",
    "course_finished": "the course ended before the snapshot",
    "is_deleted_user": "the account was deleted (its enrolments are gone from Moodle)",
    "is_suspended_user": "the account is suspended site-wide",
    "is_enrolment_suspended": "a teacher suspended this enrolment",
    "is_staff_in_course": "the learner was also made non-editing teacher in this course",
}


def ground_truth(simulation: Simulation) -> pd.DataFrame:
    """Each learner-course's designed trajectory and outcome, kept out of Moodle's tables."""
    world, accounts = simulation.world, simulation.accounts
    lc = world.lc
    course = courses_frame(simulation).loc[lc["course_id"]].reset_index()
    trajectory = lc["trajectory"].astype(str)
    finished = course["course_finished"].to_numpy(dtype=bool)
    final_grade = world.lc_total
    passed = ~np.isnan(final_grade) & (final_grade >= course["pass_grade"].to_numpy())
    outcome = np.select(
        [trajectory == "never_start", ~finished, passed, trajectory == "fade_out"],
        ["never_started", "in_progress", "passed", "dropped_out"],
        default="failed",
    )
    users = lc["user_id"].astype(np.int64)
    lc_index = np.arange(world.n_lc)
    return pd.DataFrame(
        {
            "user_id": users,
            "course_id": lc["course_id"].astype(np.int64),
            "learner_id": [pseudonym(world.config.pseudonym_secret, user) for user in users],
            "course_idnumber": course["course_idnumber"].to_numpy(dtype=object),
            "term_index": course["term_index"].to_numpy(dtype=np.int64),
            "enrol_method": lc["enrol_method"].astype(str),
            "trajectory": trajectory,
            "persona": np.array(PERSONA_NAMES)[lc["persona"]],
            "designed_dropout": np.isin(trajectory, ["fade_out", "never_start"]),
            "last_active_week": lc["last_active_week"].astype(np.int64),
            "first_week": lc["first_week"].astype(np.int64),
            "break_week": course["break_week"].to_numpy(dtype=np.int64),
            "latent_engagement": np.round(lc["engagement"].astype(float), 4),
            "latent_ability": np.round(lc["ability"].astype(float), 4),
            "final_grade": np.round(final_grade, 5),
            "grade_max": course["grade_max"].to_numpy(dtype=float),
            "pass_grade": course["pass_grade"].to_numpy(dtype=float),
            "passed": pd.array(np.where(finished, passed, None), dtype="boolean"),
            "outcome": outcome,
            "course_finished": finished,
            "is_deleted_user": np.isin(users, list(accounts.deleted_users)),
            "is_suspended_user": np.isin(users, list(accounts.suspended_users)),
            "is_enrolment_suspended": world.lc_suspended_at > 0,
            "is_staff_in_course": lc_index == accounts.promoted_lc,
        },
        columns=list(TRUTH_COLUMNS),
    )


def courses_frame(simulation: Simulation) -> pd.DataFrame:
    """The course columns of the ground truth, by course id."""
    as_of = simulation.world.as_of
    return pd.DataFrame(
        [
            {
                "course_id": c.id,
                "course_idnumber": c.idnumber,
                "term_index": c.term_index,
                "course_finished": bool(c.end_at) and c.end_at <= as_of,
                "break_week": c.break_week,
                "grade_max": c.course_grademax,
                "pass_grade": c.course_gradepass,
            }
            for c in simulation.world.courses.values()
        ]
    ).set_index("course_id")
