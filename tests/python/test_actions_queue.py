"""fct_intervention_queue against the demo's Moodle tables and the risk scores.

Who is queued and who owns each row is derived here from the mdl_ tables
(running courses, active enrolments, open accounts, teacher roles) and from
the latest risk band per learner-course (fct_learner_risk_scores, the
queue's input); the order and the next deadline are checked against the
queue's own columns and the reminders derived from Moodle's tables.
"""

from __future__ import annotations

import pandas as pd
import pytest

from test_actions_helpers import M, course_ctes
from test_actions_reminders import expected_reminders

# The demo_moment fixture.
pytest_plugins = ["test_actions_helpers"]

RISK_SCORES = "analytics_ml.fct_learner_risk_scores"


@pytest.fixture(scope="module")
def queue(built_demo) -> pd.DataFrame:
    return built_demo.frame("select * from analytics_actions.fct_intervention_queue")


@pytest.fixture(scope="module")
def expected(built_demo, demo_moment) -> pd.DataFrame:
    """(staff_id, learner_course_id) pairs the queue must hold, from Moodle's tables."""
    with built_demo.connect() as connection:
        return connection.execute(
            f"""
            with
            {course_ctes(demo_moment)}
            running as (
                select learners.user_id, learners.course_id
                from learners
                join {M}course c on c.id = learners.course_id
                left join sections on sections.course_id = learners.course_id
                where learners.is_active and not learners.is_account_closed
                    and case
                        when c.enddate > 0 then c.enddate
                        else coalesce(nullif(c.startdate, 0), learners.enrolled_epoch)
                            + 604800 * coalesce(sections.sections, 16)
                    end > {demo_moment}
            ),
            teachers as (
                select ra.userid as user_id, ctx.instanceid as course_id,
                    -- Separate groups: a teacher without access to all groups (Moodle's
                    -- default gives it to editing teachers) sees their groups only.
                    bool_and(c.groupmode = 1 and r.shortname <> 'editingteacher')
                        as is_limited_to_own_groups
                from {M}role_assignments ra
                join {M}context ctx on ctx.id = ra.contextid and ctx.contextlevel = 50
                join {M}role r on r.id = ra.roleid
                join {M}course c on c.id = ctx.instanceid
                where r.shortname in ('editingteacher', 'teacher')
                group by all
            ),
            shared_groups as (
                select distinct g.courseid as course_id, mine.userid as user_id,
                    theirs.userid as learner_user_id
                from {M}groups_members mine
                join {M}groups_members theirs on theirs.groupid = mine.groupid
                join {M}groups g on g.id = mine.groupid
            ),
            seen as (
                select running.user_id as learner_user_id, running.course_id, teachers.user_id
                from running
                join teachers using (course_id)
                left join shared_groups
                    on shared_groups.course_id = running.course_id
                    and shared_groups.user_id = teachers.user_id
                    and shared_groups.learner_user_id = running.user_id
                where not teachers.is_limited_to_own_groups
                    or shared_groups.user_id is not null
            ),
            latest_risk as (
                select learner_course_id, risk_band
                from {RISK_SCORES}
                where is_latest_week
            )
            select
                learner_id_of(seen.user_id) as staff_id,
                learner_course_of(running.user_id, running.course_id) as learner_course_id,
                running.course_id
            from running
            join latest_risk
                on latest_risk.learner_course_id
                    = learner_course_of(running.user_id, running.course_id)
            left join seen
                on seen.learner_user_id = running.user_id and seen.course_id = running.course_id
            where latest_risk.risk_band in ('high', 'medium')
            """
        ).df()


def test_the_queue_is_exactly_the_reachable_learners_at_risk_per_teacher(queue, expected):
    assert len(expected) > 20
    got = set(zip(queue.staff_id, queue.learner_course_id, strict=True))
    want = set(zip(expected.staff_id, expected.learner_course_id, strict=True))
    assert got == want
    assert queue.intervention_id.is_unique


def test_teachers_see_only_their_courses_and_every_learner_of_them(built_demo, queue, expected):
    teachers_of = expected.groupby("course_id").staff_id.apply(set)
    separate = {
        course_id
        for (course_id,) in built_demo.query(
            "select id from moodle.public.mdl_course where groupmode = 1"
        )
    }
    limited = 0
    for course_id, rows in queue.groupby("course_id"):
        learners = set(rows.learner_course_id)
        assert set(rows.staff_id) == teachers_of[course_id]
        for _staff, own in rows.groupby("staff_id"):
            if course_id in separate:
                limited += set(own.learner_course_id) < learners
            else:
                assert set(own.learner_course_id) == learners
    # The demo's separate-groups courses give some teacher a queue of their groups only.
    assert limited > 0


def ordering(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        band=frame.risk_band.map({"high": 1, "medium": 2}),
        urgent=~frame.is_deadline_urgent,
    ).sort_values(
        ["band", "urgent", "dropout_probability", "days_inactive", "learner_course_id"],
        ascending=[True, True, False, False, True],
    )


def test_ranks_put_high_risk_and_urgency_first(queue):
    per_course = queue.drop_duplicates("learner_course_id")
    for _course, rows in per_course.groupby("course_id"):
        assert ordering(rows).rank_in_course.tolist() == list(range(1, len(rows) + 1))
    for _staff, rows in queue.groupby("staff_id"):
        assert ordering(rows).rank_for_teacher.tolist() == list(range(1, len(rows) + 1))


def test_reasons_last_activity_and_next_deadline_are_given(built_demo, queue, demo_moment):
    assert queue.suggested_action.notna().all() and queue.reason_1.notna().all()
    with built_demo.connect() as connection:
        reminders = expected_reminders(connection, demo_moment, 14)
    first_due = reminders.groupby("learner_course_id").due.min()
    rows = queue.drop_duplicates("learner_course_id").set_index("learner_course_id")
    want = first_due.reindex(rows.index)
    got = (rows.next_due_at - pd.Timestamp(0)).dt.total_seconds()
    assert ((got == want) | (got.isna() & want.isna())).all()
    as_of = pd.Timestamp(demo_moment, unit="s")
    active = rows[rows.last_activity_at.notna()]
    # Calendar days, the as-of moment's day closed at 23:59:59.
    as_of_day = (as_of + pd.Timedelta(seconds=1)).normalize()
    days = (as_of_day - active.last_activity_at.dt.normalize()).dt.days
    assert (active.days_inactive == days).all()
    never = rows[rows.has_never_been_active]
    assert (never.action_code == "check_access").all()
