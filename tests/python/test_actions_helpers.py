"""Helpers shared by the action-list tests (no tests here).

The expected lists are derived straight from the Moodle tables (mdl_*) of the
demo source file, with Moodle's own rules written out again in SQL here, never
from the models' SQL. A list can be computed under other variables without
touching the shared warehouse: compile_sql() compiles the model with those
variables and query_compiled() runs the result on a read-only connection, with
any Moodle source file (e.g. an edited copy) attached as "moodle": the
staging and intermediate views read the source at query time.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dbt_project import BIN_DIR, PROJECT_DIR, Workspace

# The demo writes the Moodle tables to schema public with prefix mdl_.
M = "moodle.public.mdl_"
STAFF_ROLES = ("editingteacher", "teacher", "manager", "coursecreator")
# Moodle events that mean "handed something in" (assignment submission or
# draft, quiz attempt submitted, forum post, feedback response).
HAND_IN_EVENTS = (
    "\\mod_assign\\event\\assessable_submitted",
    "\\assignsubmission_file\\event\\submission_created",
    "\\assignsubmission_file\\event\\submission_updated",
    "\\assignsubmission_file\\event\\assessable_uploaded",
    "\\assignsubmission_onlinetext\\event\\submission_created",
    "\\assignsubmission_onlinetext\\event\\submission_updated",
    "\\assignsubmission_onlinetext\\event\\assessable_uploaded",
    "\\mod_quiz\\event\\attempt_submitted",
    "\\mod_forum\\event\\discussion_created",
    "\\mod_forum\\event\\post_created",
    "\\mod_forum\\event\\post_updated",
    "\\mod_forum\\event\\assessable_uploaded",
    "\\mod_feedback\\event\\response_submitted",
)


def sql_text_list(values) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


LIST_MODELS = (
    "fct_deadline_reminders",
    "fct_learner_feedback",
    "rpt_outreach_upgrade_track",
    "rpt_outreach_next_course",
)
_compiled: dict[tuple[str, str], dict[str, str]] = {}


def compile_models(workspace: Workspace, variables: dict) -> dict[str, str]:
    """The lists' SQL compiled with `variables`, once per workspace and variables
    (a dbt compile costs a full parse), in a target directory of its own."""
    key = (str(workspace.directory), json.dumps(variables, sort_keys=True))
    if key not in _compiled:
        target = workspace.directory / f"compiled-{len(_compiled)}"
        command = [
            str(BIN_DIR / "dbt"),
            "compile",
            "--select",
            *LIST_MODELS,
            "--vars",
            json.dumps(variables),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ]
        result = subprocess.run(
            command, cwd=PROJECT_DIR, env=workspace.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise AssertionError(f"dbt compile failed:\n{result.stdout[-4000:]}")
        compiled = target / "compiled" / "moodle_analytics" / "models" / "marts"
        _compiled[key] = {
            model: next(compiled.rglob(f"{model}.sql")).read_text() for model in LIST_MODELS
        }
    return _compiled[key]


def compile_sql(workspace: Workspace, model: str, variables: dict) -> str:
    return compile_models(workspace, variables)[model]


def connect(workspace: Workspace, source: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The warehouse read-only, with `source` (default the workspace's) attached as moodle."""
    connection = duckdb.connect(str(workspace.warehouse), read_only=True)
    connection.execute(f"attach '{source or workspace.source}' as moodle (read_only)")
    workspace.add_learner_keys(connection)
    return connection


def query_compiled(workspace: Workspace, sql: str, source: Path | None = None) -> pd.DataFrame:
    with connect(workspace, source) as connection:
        return connection.execute(sql).df()


def course_ctes(at_epoch: int) -> str:
    """The CTEs each expected list starts from: ``learners`` (course_learners_sql at
    ``at_epoch``) and ``sections``, each course's sections as Moodle counts them
    (section 0 is the course's general part)."""
    return f"""
        learners as ({course_learners_sql(at_epoch)}),
        sections as (
            select course as course_id, count(*) as sections
            from {M}course_sections where section > 0 group by all
        ),
    """


@pytest.fixture(scope="session")
def demo_moment(built_demo) -> int:
    """The demo's as-of moment (newest_log_epoch), for the action-list tests that
    register this module with ``pytest_plugins``."""
    with built_demo.connect() as connection:
        return newest_log_epoch(connection)


def newest_log_epoch(connection) -> int:
    """The demo's as-of moment as Moodle data gives it: its newest plausible log row."""
    return int(
        connection.execute(
            "select max(timecreated) from moodle.public.mdl_logstore_standard_log "
            "where timecreated <= epoch(current_timestamp) + 86400"
        ).fetchone()[0]
    )


def course_learners_sql(at_epoch: int) -> str:
    """Learners per course straight from Moodle's tables: a student role in the
    course context and an enrolment, no staff role there, not the guest account;
    with whether an enrolment is active at `at_epoch` (Moodle's rule: enrolment
    and method enabled, started, not ended)."""
    return f"""
        with
        students as (
            select distinct ra.userid as user_id, ctx.instanceid as course_id
            from {M}role_assignments ra
            join {M}context ctx on ctx.id = ra.contextid and ctx.contextlevel = 50
            join {M}role r on r.id = ra.roleid and r.shortname = 'student'
        ),
        staff as (
            select distinct ra.userid as user_id, ctx.instanceid as course_id
            from {M}role_assignments ra
            join {M}context ctx on ctx.id = ra.contextid and ctx.contextlevel = 50
            join {M}role r on r.id = ra.roleid
            where r.shortname in ({sql_text_list(STAFF_ROLES)})
        ),
        enrolments as (
            select ue.userid as user_id, e.courseid as course_id,
                min(coalesce(nullif(ue.timestart, 0), ue.timecreated)) as enrolled_epoch,
                bool_or(ue.status = 0 and e.status = 0
                    and (ue.timestart = 0 or ue.timestart <= {at_epoch})
                    and (ue.timeend = 0 or ue.timeend > {at_epoch})) as is_active
            from {M}user_enrolments ue
            join {M}enrol e on e.id = ue.enrolid
            group by all
        )
        select s.user_id, s.course_id, en.enrolled_epoch, en.is_active,
            u.firstname, u.lastname, u.email, u.suspended = 1 or u.deleted = 1 as is_account_closed,
            u.emailstop = 1 as is_email_stopped
        from students s
        join enrolments en using (user_id, course_id)
        join {M}user u on u.id = s.user_id
        join {M}course c on c.id = s.course_id and c.format <> 'site'
        anti join staff using (user_id, course_id)
        where u.username <> 'guest'
    """
