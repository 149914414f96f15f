"""The marts reproduce what the demo generator designed, which the models never see.

The ground truth file says, per learner-course, how the generator designed it
to go (steady, fading out after a given week, never starting; its persona; the
course's break week) and its final grade and pass or fail; these tests check
the marts against it, not against the models' own logic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def truth(built_demo) -> pd.DataFrame:
    frame = pd.read_csv(built_demo.ground_truth)
    # The ground truth names each learner's pseudonym under the demo's own secret.
    frame["learner_course_id"] = frame["learner_id"] + "-" + frame["course_id"].astype(str)
    return frame


@pytest.fixture(scope="module")
def learner_weeks(built_demo) -> pd.DataFrame:
    return built_demo.frame(
        "select learner_course_id, course_week_number, events, is_active, "
        "days_inactive_at_week_end, is_complete_week from analytics_marts.fct_learner_weeks"
    )


@pytest.fixture(scope="module")
def learner_courses(built_demo) -> pd.DataFrame:
    return built_demo.frame("select * from analytics_marts.fct_learner_courses")


def test_the_learners_are_exactly_the_designed_learners(truth, learner_courses):
    # Moodle removes a deleted user's enrolments, and a learner who was also
    # given a teacher role in the course is staff there.
    expected = set(
        truth.loc[~truth.is_deleted_user & ~truth.is_staff_in_course, "learner_course_id"]
    )
    assert set(learner_courses.learner_course_id) == expected


def finished_fading(truth: pd.DataFrame) -> pd.DataFrame:
    """Fading learners of finished term courses (not the self-paced one); a
    deleted user's enrolments are gone, so they are nobody's learner."""
    return truth[
        (truth.trajectory == "fade_out")
        & truth.course_finished
        & (truth.term_index >= 0)
        & ~truth.is_deleted_user
        & ~truth.is_staff_in_course
    ]


def test_a_fading_learner_has_no_events_after_the_designed_last_week(truth, learner_weeks):
    fading = finished_fading(truth)
    assert len(fading) > 50
    weeks = learner_weeks.merge(fading, on="learner_course_id")
    after = weeks[weeks.course_week_number > weeks.last_active_week]
    last = weeks[weeks.course_week_number == weeks.last_active_week]
    assert (after.events == 0).all()
    assert (last.events > 0).all()
    assert last.learner_course_id.nunique() == len(fading)


def test_inactivity_grows_by_a_week_each_week_after_a_learner_stops(truth, learner_weeks):
    fading = finished_fading(truth)
    weeks = learner_weeks.merge(fading, on="learner_course_id").sort_values(
        ["learner_course_id", "course_week_number"]
    )
    silent = weeks[weeks.course_week_number > weeks.last_active_week]
    growth = silent.groupby("learner_course_id").days_inactive_at_week_end.diff().dropna()
    assert len(growth) > 100
    assert (growth == 7).all()
    first_silent_week = silent.groupby("learner_course_id").days_inactive_at_week_end.first()
    # Calendar days from the day of the last event to the end of the next week, whose
    # last second closes its day: 8 (active on the last day) to 14 (on the first).
    assert first_silent_week.between(8, 14).all()


def test_learners_who_never_start_have_no_activity_and_are_dropouts(
    truth, learner_weeks, learner_courses
):
    never = truth[truth.trajectory == "never_start"]
    assert len(never) > 20
    weeks = learner_weeks[learner_weeks.learner_course_id.isin(never.learner_course_id)]
    assert (weeks.events == 0).all()
    finished = learner_courses[
        learner_courses.learner_course_id.isin(never.learner_course_id)
        & learner_courses.is_outcome_known
    ]
    assert finished.is_dropout.all()
    assert finished.first_activity_at.isna().all()


def test_the_dropout_label_matches_the_designed_outcome(truth, learner_courses):
    known = learner_courses[learner_courses.is_outcome_known]
    finished = known.merge(truth, on="learner_course_id")
    assert len(finished) > 500
    agreement = (finished.is_dropout == finished.designed_dropout).mean()
    assert agreement == 1.0, finished[finished.is_dropout != finished.designed_dropout]


def test_the_pass_label_matches_the_designed_final_grade(truth, learner_courses):
    known = learner_courses[learner_courses.is_outcome_known].merge(truth, on="learner_course_id")
    known = known[known.course_finished]
    assert len(known) > 500
    assert known.passed.notna().all()
    assert (known.has_passed == known.passed.astype(bool)).all()
    graded = known[known.final_grade.notna()]
    assert len(graded) > 0.5 * len(known)
    assert np.allclose(graded.final_grade_share * graded.grade_max, graded.final_grade, atol=1e-3)
    assert known.final_grade_share[known.final_grade.isna()].isna().all()


def test_a_break_week_is_quiet_and_learners_come_back(truth, learner_weeks):
    steady = truth[
        (truth.trajectory == "steady")
        & (truth.break_week > 0)
        & truth.course_finished
        & ~truth.is_deleted_user
    ]
    weeks = learner_weeks.merge(steady[["learner_course_id", "break_week"]])
    offset = weeks.course_week_number - weeks.break_week
    active = weeks.assign(offset=offset).groupby("offset").is_active.mean()
    assert active[0] < 0.25
    assert active[-1] > 0.8 and active[1] > 0.8


def test_quarantine_catches_each_injected_anomaly(built_demo):
    anomalies = pd.read_csv(
        built_demo.ground_truth.with_name(built_demo.ground_truth.stem + "_anomalies.csv")
    )
    quarantined = built_demo.frame(
        "select log_event_id, reason from analytics_marts.fct_log_quarantine"
    )
    expected_reason = {
        "time_zero": "invalid_time",
        "time_in_future": "invalid_time",
        "unknown_user": "unknown_user",
        "unknown_course": "unknown_course",
        "outside_enrolment": "outside_enrolment",
    }
    merged = anomalies.merge(quarantined, left_on="log_id", right_on="log_event_id", how="left")
    assert len(anomalies) == 25
    assert (merged.reason == merged.anomaly.map(expected_reason)).all()
