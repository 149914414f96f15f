"""The designed truth of every learner-course, kept out of Moodle's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from moodle_analytics.demo.simulate import Simulation


def ground_truth(simulation: Simulation) -> pd.DataFrame:
    """Each learner-course's designed trajectory and outcome, kept out of Moodle's tables."""
    world, accounts = simulation.world, simulation.accounts
    lc = world.lc
    courses = pd.DataFrame(
        [
            {
                "course_id": c.id,
                "course_idnumber": c.idnumber,
                "term_index": c.term_index,
                "course_finished": bool(c.end_at) and c.end_at <= world.as_of,
                "grademax": c.course_grademax,
                "gradepass": c.course_gradepass,
            }
            for c in world.courses.values()
        ]
    ).set_index("course_id")
    course = courses.loc[lc["course_id"]].reset_index()
    trajectory = lc["trajectory"].astype(str)
    total = world.lc_total
    share = total / course["grademax"].to_numpy()
    passed = ~np.isnan(share) & (share * course["grademax"].to_numpy() >= course["gradepass"])
    finished = course["course_finished"].to_numpy(dtype=bool)
    outcome = np.select(
        [trajectory == "never_start", trajectory == "fade_out", ~finished, passed],
        ["never_started", "dropped_out", "in_progress", "passed"],
        default="failed",
    )
    users = lc["user_id"].astype(np.int64)
    lc_index = np.arange(world.n_lc)
    return pd.DataFrame(
        {
            "user_id": users,
            "course_id": lc["course_id"].astype(np.int64),
            "course_idnumber": course["course_idnumber"].to_numpy(dtype=object),
            "term_index": course["term_index"].to_numpy(dtype=np.int64),
            "enrol_method": lc["enrol_method"].astype(str),
            "trajectory": trajectory,
            "designed_dropout": np.isin(trajectory, ["fade_out", "never_start"]),
            "last_active_week": lc["last_active_week"].astype(np.int64),
            "first_week": lc["first_week"].astype(np.int64),
            "latent_engagement": np.round(lc["engagement"].astype(float), 4),
            "latent_ability": np.round(lc["ability"].astype(float), 4),
            "outcome": outcome,
            "course_finished": finished,
            "is_deleted_user": np.isin(users, list(accounts.deleted_users)),
            "is_suspended_user": np.isin(users, list(accounts.suspended_users)),
            "is_enrolment_suspended": world.lc_suspended_at > 0,
            "is_staff_in_course": lc_index == accounts.promoted_lc,
        }
    )
