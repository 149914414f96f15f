"""fct_deadline_reminders against the Moodle tables of the demo site.

The expected reminders are derived here from the mdl_ tables with Moodle's
rules (roles, enrolment status and dates, submissions, attempts, posts,
completion, the log's hand-in events), never from the model's SQL.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from test_actions_helpers import (
    HAND_IN_EVENTS,
    M,
    compile_sql,
    connect,
    course_ctes,
    course_learners_sql,
    query_compiled,
    sql_text_list,
)

# The demo_moment fixture.
pytest_plugins = ["test_actions_helpers"]

EARLIER_MOMENT = "2026-10-14 12:00:00"
# The lists with names, reminders as of a week before the demo's moment.
NAMED_EARLIER = {"include_pii": True, "reminders_as_of": EARLIER_MOMENT, "reminder_window_days": 7}


def expected_reminders(
    connection, at_epoch: int, window_days: int, email_stopped: bool = False
) -> pd.DataFrame:
    """(learner_course_id, activity_id) pairs a reminder is due for, from Moodle's tables;
    with email_stopped, those left out because the learner turned e-mail off instead."""
    window_end = at_epoch + window_days * 86400
    return connection.execute(
        f"""
        with
        {course_ctes(at_epoch)}
        modules as (
            select cm.id as cmid, cm.course as course_id, m.name as module, cm.instance,
                cm.visible = 1 and c.visible = 1 as is_visible
            from {M}course_modules cm
            join {M}modules m on m.id = cm.module
            join {M}course c on c.id = cm.course
            where cm.deletioninprogress = 0
        ),
        own_due as (
            select 'assign' as module, id as instance, duedate as due
            from {M}assign where duedate > 0
            union all select 'quiz', id, timeclose from {M}quiz where timeclose > 0
            union all select 'forum', id, duedate from {M}forum where duedate > 0
            union all select 'feedback', id, timeclose from {M}feedback where timeclose > 0
        ),
        calendar_due as (
            select modulename as module, instance, min(timestart) as due
            from {M}event
            where eventtype in ('due', 'close') and visible = 1 and courseid > 1 and timestart > 0
            group by all
        ),
        deadlines as (
            select modules.*, coalesce(own_due.due, calendar_due.due) as due
            from modules
            left join own_due using (module, instance)
            left join calendar_due using (module, instance)
            where coalesce(own_due.due, calendar_due.due) is not null
        ),
        handed_in as (
            select s.userid as user_id, d.cmid
            from {M}assign_submission s
            join deadlines d on d.module = 'assign' and d.instance = s.assignment
            where s.status in ('submitted', 'draft')
                and coalesce(nullif(s.timemodified, 0), s.timecreated) <= {at_epoch}
            union all
            select a.userid, d.cmid
            from {M}quiz_attempts a join deadlines d on d.module = 'quiz' and d.instance = a.quiz
            where a.preview = 0 and a.timestart > 0 and a.timestart <= {at_epoch}
            union all
            select p.userid, d.cmid
            from {M}forum_posts p
            join {M}forum_discussions fd on fd.id = p.discussion
            join deadlines d on d.module = 'forum' and d.instance = fd.forum
            where p.deleted = 0 and p.created <= {at_epoch}
            union all
            select userid, coursemoduleid
            from {M}course_modules_completion
            where completionstate > 0 and (timemodified = 0 or timemodified <= {at_epoch})
            union all
            select userid, contextinstanceid
            from {M}logstore_standard_log
            where contextlevel = 70 and eventname in ({sql_text_list(HAND_IN_EVENTS)})
                and timecreated > 0 and timecreated <= {at_epoch}
        ),
        courses as (
            select c.id as course_id, c.startdate, c.enddate,
                coalesce(sections.sections, 16) as weeks
            from {M}course c left join sections on sections.course_id = c.id
        )
        select
            learner_course_of(learners.user_id, learners.course_id) as learner_course_id,
            deadlines.cmid as activity_id,
            deadlines.module,
            deadlines.due,
            learners.firstname,
            learners.lastname,
            learners.email
        from learners
        join deadlines using (course_id)
        join courses using (course_id)
        where learners.is_active and not learners.is_account_closed and deadlines.is_visible
            and learners.is_email_stopped = {str(email_stopped).lower()}
            and deadlines.due > {at_epoch} and deadlines.due <= {window_end}
            and deadlines.due >= learners.enrolled_epoch
            and deadlines.due <= case
                when courses.enddate > 0 then courses.enddate
                else coalesce(nullif(courses.startdate, 0), learners.enrolled_epoch)
                    + 604800 * courses.weeks
            end
            and not exists (
                select 1 from handed_in
                where handed_in.user_id = learners.user_id and handed_in.cmid = deadlines.cmid
            )
        """
    ).df()


def pairs(frame: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(frame.learner_course_id, frame.activity_id.astype(int), strict=True))


def epoch_of(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def reminders(built_demo) -> pd.DataFrame:
    return built_demo.frame("select * from analytics_actions.fct_deadline_reminders")


@pytest.fixture(scope="module")
def earlier_sql(built_demo) -> str:
    """The reminders a week before the demo's moment, 7 days ahead, names included."""
    return compile_sql(built_demo, "fct_deadline_reminders", NAMED_EARLIER)


@pytest.fixture(scope="module")
def earlier(built_demo, earlier_sql) -> pd.DataFrame:
    return query_compiled(built_demo, earlier_sql)


def test_the_reminders_are_exactly_the_learners_the_moodle_tables_give(
    built_demo, reminders, demo_moment
):
    with built_demo.connect() as connection:
        expected = expected_reminders(connection, demo_moment, 14)
    assert len(expected) > 100
    assert pairs(reminders) == pairs(expected)
    assert (reminders.reminded_at == pd.Timestamp(demo_moment, unit="s")).all()


def test_learners_who_turned_email_off_are_left_out_and_counted(built_demo, reminders, demo_moment):
    with built_demo.connect() as connection:
        stopped = expected_reminders(connection, demo_moment, 14, email_stopped=True)
    stopped_users = set(stopped.learner_course_id.str.split("-").str[0])
    assert len(stopped_users) > 0
    assert not pairs(reminders) & pairs(stopped)
    assert (reminders.email_stopped_left_out == len(stopped_users)).all()


def test_reminders_as_of_an_earlier_moment_match_and_count_only_earlier_hand_ins(
    built_demo, earlier
):
    moment = epoch_of(EARLIER_MOMENT)
    with built_demo.connect() as connection:
        expected = expected_reminders(connection, moment, 7)
        # Learners who handed the activity in after the moment: reminded then.
        submitted_later = connection.execute(
            f"""
            select learner_course_of(s.userid, cm.course) as learner_course_id, cm.id as activity_id
            from {M}assign_submission s
            join {M}course_modules cm on cm.instance = s.assignment
            join {M}modules m on m.id = cm.module and m.name = 'assign'
            where s.status = 'submitted' and s.timemodified > {moment}
            """
        ).df()
    assert len(expected) > 100
    assert pairs(earlier) == pairs(expected)
    assert len(pairs(earlier) & pairs(submitted_later)) > 10
    assert (earlier.days_left.between(0, 7)).all()


def test_contact_fields_are_the_learners_own_and_only_with_include_pii(
    built_demo, reminders, earlier
):
    assert reminders[["first_name", "full_name", "email"]].isna().all().all()
    with built_demo.connect() as connection:
        expected = expected_reminders(connection, epoch_of(EARLIER_MOMENT), 7)
    merged = earlier.merge(
        expected, on=["learner_course_id", "activity_id"], suffixes=("", "_moodle"), validate="1:1"
    )
    assert (merged.first_name == merged.firstname).all()
    assert (merged.full_name == merged.firstname + " " + merged.lastname).all()
    assert (merged.email == merged.email_moodle).all()


def test_the_link_due_time_and_days_left_follow_moodle(built_demo, earlier):
    with built_demo.connect() as connection:
        modules = connection.execute(
            f"select cm.id as activity_id, m.name as module from {M}course_modules cm "
            f"join {M}modules m on m.id = cm.module"
        ).df()
    rows = earlier.merge(modules, on="activity_id", validate="m:1")
    assert (
        rows.activity_url_path
        == "/mod/" + rows.module + "/view.php?id=" + rows.activity_id.astype(str)
    ).all()
    # Calendar days: from the reminder's date to the due date, a due time of 23:59:59
    # closing its day.
    due_day = (rows.due_at + pd.Timedelta(seconds=1)).dt.normalize()
    assert (rows.days_left == (due_day - rows.reminded_at.dt.normalize()).dt.days).all()


def test_nobody_is_reminded_twice_of_one_activity(reminders, earlier):
    for frame in (reminders, earlier):
        assert not frame.duplicated(["learner_id", "activity_id"]).any()
        assert frame.deadline_reminder_id.is_unique


@pytest.fixture(scope="module")
def edited(built_demo, earlier, tmp_path_factory):
    """A copy of the demo's Moodle tables in which, before the earlier moment,
    some learners of the earlier list handed the activity in (submitted, saved
    a draft, started a quiz attempt), lost their enrolment (ended, suspended,
    enrolment method disabled) or had their account suspended or deleted."""
    path = tmp_path_factory.mktemp("edited") / "moodle_source.duckdb"
    shutil.copy(built_demo.source, path)
    moment = epoch_of(EARLIER_MOMENT)
    rows = earlier.sort_values(["learner_course_id", "activity_id"]).reset_index(drop=True)
    users_of = built_demo.frame(
        f"select learner_id_of(id) as learner_id, id as user_id from {M}user"
    ).set_index("learner_id")["user_id"]
    rows["user_id"] = rows.learner_id.map(users_of).astype(int)
    # Distinct users, so one edit never hides another.
    users = rows.drop_duplicates("user_id").reset_index(drop=True)
    changed = {
        "enrolment_ended": users.iloc[0:4],
        "enrolment_suspended": users.iloc[4:8],
        "method_disabled": users.iloc[8:9],
        "account_suspended": users.iloc[9:11],
        "account_deleted": users.iloc[11:13],
    }
    others = rows[~rows.user_id.isin(users.user_id[:13])]
    assignments = others[others.activity_type == "assign"].drop_duplicates("user_id")
    quizzes = others[others.activity_type == "quiz"].drop_duplicates("user_id")
    quizzes = quizzes[~quizzes.user_id.isin(assignments.user_id[:6])]
    changed |= {
        "submitted": assignments.iloc[0:3],
        "draft_saved": assignments.iloc[3:6],
        "quiz_started": quizzes.iloc[0:3],
    }
    assert all(len(group) > 0 for group in changed.values())
    table = "public.mdl_"

    def enrolments_of(row) -> str:
        return (
            f"select ue.id from {table}user_enrolments ue "
            f"join {table}enrol e on e.id = ue.enrolid "
            f"where ue.userid = {row.user_id} and e.courseid = {row.course_id}"
        )

    def insert(name: str, values: dict) -> str:
        """A row appended to a Moodle table; values are SQL over that table (max(id) + 1)."""
        columns = ", ".join(values)
        selected = ", ".join(str(value) for value in values.values())
        return f"insert into {table}{name} ({columns}) select {selected} from {table}{name}"

    def submission(row, status: str) -> str:
        return insert(
            "assign_submission",
            {
                "id": "max(id) + 1",
                "assignment": instance_of(row),
                "userid": row.user_id,
                "timecreated": moment - 7200,
                "timemodified": moment - 7200,
                "status": f"'{status}'",
                "groupid": 0,
                "attemptnumber": 0,
                "latest": 1,
            },
        )

    def instance_of(row) -> str:
        return f"(select instance from {table}course_modules where id = {row.activity_id})"

    edits = {
        "enrolment_ended": lambda row: (
            f"update {table}user_enrolments set timeend = {moment - 3600} "
            f"where id in ({enrolments_of(row)})"
        ),
        "enrolment_suspended": lambda row: (
            f"update {table}user_enrolments set status = 1 where id in ({enrolments_of(row)})"
        ),
        "method_disabled": lambda row: (
            f"update {table}enrol set status = 1 where id in "
            f"(select enrolid from {table}user_enrolments where id in ({enrolments_of(row)}))"
        ),
        "account_suspended": lambda row: (
            f"update {table}user set suspended = 1 where id = {row.user_id}"
        ),
        "account_deleted": lambda row: (
            f"update {table}user set deleted = 1 where id = {row.user_id}"
        ),
        "submitted": lambda row: submission(row, "submitted"),
        "draft_saved": lambda row: submission(row, "draft"),
        "quiz_started": lambda row: insert(
            "quiz_attempts",
            {
                "id": "max(id) + 1",
                "quiz": instance_of(row),
                "userid": row.user_id,
                "attempt": 1,
                "uniqueid": "max(uniqueid) + 1",
                "layout": "''",
                "currentpage": 0,
                "preview": 0,
                "state": "'inprogress'",
                "timestart": moment - 600,
                "timefinish": 0,
                "timemodified": moment - 600,
                "timemodifiedoffline": 0,
            },
        ),
    }
    with duckdb.connect(str(path)) as connection:
        for kind, group in changed.items():
            for row in group.itertuples():
                connection.execute(edits[kind](row))
    return path, changed


@pytest.fixture(scope="module")
def edited_list(built_demo, earlier_sql, edited) -> pd.DataFrame:
    path, _changed = edited
    return query_compiled(built_demo, earlier_sql, source=path)


def test_the_list_follows_the_moodle_tables_after_hand_ins_and_enrolment_changes(
    built_demo, edited, edited_list
):
    path, _changed = edited
    with connect(built_demo, path) as connection:
        expected = expected_reminders(connection, epoch_of(EARLIER_MOMENT), 7)
    assert pairs(edited_list) == pairs(expected)


def test_a_learner_who_already_handed_in_never_gets_a_reminder(earlier, edited, edited_list):
    _path, changed = edited
    for kind in ("submitted", "draft_saved", "quiz_started"):
        handed_in = pairs(changed[kind])
        assert handed_in <= pairs(earlier), kind
        assert not handed_in & pairs(edited_list), kind


def test_ended_or_suspended_enrolments_and_closed_accounts_never_appear(
    earlier, edited, edited_list
):
    _path, changed = edited
    listed = set(edited_list.learner_course_id)
    for kind in (
        "enrolment_ended",
        "enrolment_suspended",
        "method_disabled",
        "account_suspended",
        "account_deleted",
    ):
        gone = set(changed[kind].learner_course_id)
        assert gone <= set(earlier.learner_course_id), kind
        assert not gone & listed, kind


def test_suspended_enrolments_in_the_demo_are_left_out(built_demo, earlier):
    moment = epoch_of(EARLIER_MOMENT)
    with built_demo.connect() as connection:
        learners = connection.execute(
            "select *, learner_course_of(user_id, course_id) as learner_course_id "
            f"from ({course_learners_sql(moment)})"
        ).df()
    inactive = learners[~learners.is_active | learners.is_account_closed]
    running = set(earlier.course_id)
    assert len(inactive[inactive.course_id.isin(running)]) > 5
    assert not set(inactive.learner_course_id) & set(earlier.learner_course_id)
