"""Moodle editing the past between two builds, on a copy of a demo Moodle DuckDB
file: one edit of each kind the incremental models must take again, as Moodle
itself writes it (timemodified set), chosen once and applied alike to every
copy of the site, and what each edit changes in a build (its witness)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

DAY = 86400
# Written by the edits as Moodle would: the moment of the edit.
EDITED_AT = 1_793_000_000
STUDENT_PAIRS = """
    select enrolments.userid as user_id, enrol.courseid as course_id,
        min(enrolments.id) as user_enrolment_id
    from public.mdl_user_enrolments as enrolments
    inner join public.mdl_enrol as enrol on enrolments.enrolid = enrol.id
    inner join public.mdl_context as context
        on context.contextlevel = 50 and context.instanceid = enrol.courseid
    inner join public.mdl_role_assignments as assignments
        on assignments.contextid = context.id and assignments.userid = enrolments.userid
    inner join public.mdl_role as role
        on assignments.roleid = role.id and role.shortname = 'student'
    group by enrolments.userid, enrol.courseid
"""


@dataclass
class Edit:
    """One edit of the past: the learner-course it shows on (its witness
    pair), the SQL that makes it, and which part of a build it changes."""

    kind: str
    user_id: int
    course_id: int
    witness: str
    statements: list[tuple[str, list]] = field(default_factory=list)


def choose_edits(source) -> list[Edit]:
    """One edit of each kind, on learner-courses with events, each kind on
    its own learner (and the course edits on courses of their own)."""
    with duckdb.connect(str(source), read_only=True) as connection:
        newest = connection.execute(
            "select max(timecreated) from public.mdl_logstore_standard_log "
            "where timecreated < 2000000000"
        ).fetchone()[0]
        courses = connection.execute(
            "select id, startdate, enddate from public.mdl_course "
            "where format <> 'site' and startdate > 0 and startdate < ? order by startdate, id",
            [newest],
        ).fetchall()
        running = [course for course in courses if course[1] == courses[-1][1]]
        finished = [course for course in courses if 0 < course[2] < newest]
        started_course, ended_course = running[0], finished[1]
        # Learner-courses with plenty of events, busiest first, one per user.
        pairs = connection.execute(
            f"""
            select pairs.user_id, pairs.course_id, pairs.user_enrolment_id,
                min(log.timecreated) as first_event, max(log.timecreated) as last_event
            from ({STUDENT_PAIRS}) as pairs
            inner join public.mdl_logstore_standard_log as log
                on log.userid = pairs.user_id and log.courseid = pairs.course_id
            where pairs.course_id not in (?, ?)
            group by all
            having count(*) >= 100 and max(log.timecreated) - min(log.timecreated) > 40 * {DAY}
            order by count(*) desc, pairs.user_id, pairs.course_id
            """,
            [started_course[0], ended_course[0]],
        ).fetchall()
        pairs = list({pair[0]: pair for pair in reversed(pairs)}.values())[::-1]
        submitted_assignment = connection.execute(
            """
            select log.userid, log.courseid, assign.id, assign.duedate, log.timecreated
            from public.mdl_logstore_standard_log as log
            inner join public.mdl_course_modules as modules on log.contextinstanceid = modules.id
            inner join public.mdl_modules as module_types
                on modules.module = module_types.id and module_types.name = 'assign'
            inner join public.mdl_assign as assign on modules.instance = assign.id
            where log.eventname = '\\mod_assign\\event\\assessable_submitted'
                and log.contextlevel = 70 and assign.duedate > 0
                and log.timecreated between assign.duedate - 3 * 86400 and assign.duedate
                and log.timecreated < ? - 10 * 86400
            order by log.id
            limit 1
            """,
            [newest],
        ).fetchone()
        started_learner, ended_learner = (
            connection.execute(
                f"select user_id, course_id from ({STUDENT_PAIRS}) where course_id = ? "
                "order by user_id limit 1",
                [course[0]],
            ).fetchone()
            for course in (started_course, ended_course)
        )

    def learner(index: int, kind: str, witness: str) -> tuple[Edit, tuple]:
        user_id, course_id, user_enrolment_id, first_event, _ = pairs[index]
        return Edit(kind, user_id, course_id, witness), (user_enrolment_id, first_event)

    edits = []
    # Three enrolments start two weeks after the learner's first event.
    for index in range(3):
        edit, (user_enrolment_id, first_event) = learner(index, "enrolment_timestart", "events")
        edit.statements.append(
            (
                "update public.mdl_user_enrolments set timestart = ?, timemodified = ? "
                "where id = ?",
                [first_event + 14 * DAY, EDITED_AT, user_enrolment_id],
            )
        )
        edits.append(edit)
    edit, (user_enrolment_id, first_event) = learner(3, "enrolment_timeend", "events")
    edit.statements.append(
        (
            "update public.mdl_user_enrolments set timeend = ?, timemodified = ? where id = ?",
            [first_event + 20 * DAY, EDITED_AT, user_enrolment_id],
        )
    )
    edits.append(edit)
    edit, (user_enrolment_id, _) = learner(4, "enrolment_status", "learner")
    edit.statements.append(
        (
            "update public.mdl_user_enrolments set status = 1, timemodified = ? where id = ?",
            [EDITED_AT, user_enrolment_id],
        )
    )
    edits.append(edit)
    # Moodle's delete_user(): the account stays, marked deleted and renamed,
    # without its role assignments and enrolments.
    edit, _ = learner(5, "user_deleted", "events")
    edit.statements += [
        (
            "update public.mdl_user set deleted = 1, username = 'deleted.' || id, "
            "email = md5(email), idnumber = '', timemodified = ? where id = ?",
            [EDITED_AT, edit.user_id],
        ),
        ("delete from public.mdl_role_assignments where userid = ?", [edit.user_id]),
        ("delete from public.mdl_user_enrolments where userid = ?", [edit.user_id]),
    ]
    edits.append(edit)
    edit, _ = learner(6, "user_suspended", "learner")
    edit.statements.append(
        (
            "update public.mdl_user set suspended = 1, timemodified = ? where id = ?",
            [EDITED_AT, edit.user_id],
        )
    )
    edits.append(edit)
    edit, _ = learner(7, "role_unassigned", "events")
    edit.statements.append(
        (
            "delete from public.mdl_role_assignments where userid = ? and roleid = "
            "(select id from public.mdl_role where shortname = 'student') and contextid = "
            "(select id from public.mdl_context where contextlevel = 50 and instanceid = ?)",
            [edit.user_id, edit.course_id],
        )
    )
    edits.append(edit)
    edit, _ = learner(8, "role_assigned_teacher", "events")
    edit.statements.append(
        (
            "insert into public.mdl_role_assignments (id, roleid, contextid, userid, timemodified, "
            "modifierid, component, itemid, sortorder) select (select max(id) + 1 from "
            "public.mdl_role_assignments), (select id from public.mdl_role where shortname = "
            "'editingteacher'), id, ?, ?, 2, '', 0, 0 from public.mdl_context "
            "where contextlevel = 50 and instanceid = ?",
            [edit.user_id, EDITED_AT, edit.course_id],
        )
    )
    edits.append(edit)
    edit, _ = learner(9, "grade_changed", "grades")
    edit.statements.append(
        (
            "update public.mdl_grade_grades set finalgrade = coalesce(rawgrademin, 0), "
            "rawgrade = coalesce(rawgrademin, 0), timemodified = ? where userid = ? and itemid in "
            "(select id from public.mdl_grade_items where courseid = ?)",
            [EDITED_AT, edit.user_id, edit.course_id],
        )
    )
    edits.append(edit)
    # A course that starts two days earlier numbers every learner's days anew.
    edit = Edit("course_startdate", *started_learner, "events")
    edit.statements.append(
        (
            "update public.mdl_course set startdate = startdate - ?, timemodified = ? where id = ?",
            [2 * DAY, EDITED_AT, started_course[0]],
        )
    )
    edits.append(edit)
    edit = Edit("course_enddate", *ended_learner, "events")
    edit.statements.append(
        (
            "update public.mdl_course set enddate = enddate - ?, timemodified = ? where id = ?",
            [28 * DAY, EDITED_AT, ended_course[0]],
        )
    )
    edits.append(edit)
    # A due date moved earlier: a submission on time becomes late.
    user_id, course_id, assign_id, due_date, _ = submitted_assignment
    edit = Edit("due_date_moved", user_id, course_id, "weeks")
    edit.statements.append(
        (
            "update public.mdl_assign set duedate = ?, timemodified = ? where id = ?",
            [due_date - 5 * DAY, EDITED_AT, assign_id],
        )
    )
    edits.append(edit)
    return edits


def apply_edits(source, edits: list[Edit]) -> None:
    with duckdb.connect(str(source)) as connection:
        for edit in edits:
            for sql, parameters in edit.statements:
                connection.execute(sql, parameters)


# What each kind of edit changes in a build, for one learner-course: rows
# keyed by their first value; only keys both builds hold are compared, so
# log rows new to one build do not count as a change.
WITNESS_QUERIES = {
    "events": """
        select log_event_id, disposition, reason, course_day_number
        from analytics_intermediate.int_log_events_classified
        where user_id = {user_id} and course_id = {course_id}
    """,
    "learner": """
        select learner_course_id, is_enrolment_suspended, is_user_suspended, has_active_enrolment
        from analytics_intermediate.int_course_learners
        where user_id = {user_id} and course_id = {course_id}
    """,
    "grades": """
        select graded.learner_course_id, graded.final_grade_share, graded.is_passing
        from analytics_intermediate.int_learner_courses_graded as graded
        inner join analytics_intermediate.int_course_learners as learners
            on graded.learner_course_id = learners.learner_course_id
        where learners.user_id = {user_id} and learners.course_id = {course_id}
    """,
    "weeks": """
        select course_week_number, submissions_on_time, submissions_late
        from analytics_intermediate.int_learner_weeks_aggregated
        where user_id = {user_id} and course_id = {course_id} and submissions > 0
    """,
}


def witness(workspace, edit: Edit) -> dict:
    """The rows an edit changes, by key, as `workspace`'s build holds them."""
    rows = workspace.query(
        WITNESS_QUERIES[edit.witness].format(user_id=edit.user_id, course_id=edit.course_id)
    )
    return {row[0]: row[1:] for row in rows}


def edit_changed(before: dict, after: dict) -> bool:
    """True when the witness rows of an edit differ: a key gone, or the values
    of a key both builds hold."""
    return bool(before.keys() - after.keys()) or any(
        before[key] != after[key] for key in before.keys() & after.keys()
    )
