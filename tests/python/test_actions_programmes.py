"""Programme progress and the two outreach lists against the demo's Moodle tables.

The expected learners come from the mdl_ tables (roles, enrolments, the
course total in the gradebook, course dates and completion) and from the
programme seeds as a site would write them, never from the models' SQL.
"""

from __future__ import annotations

import dataclasses
import shutil

import pandas as pd
import pytest

from dbt_project import DEMO_PROGRAMMES_DIR, PROJECT_DIR
from test_actions_helpers import M, compile_sql, course_ctes
from test_actions_reminders import NAMED_EARLIER

# The demo_moment fixture.
pytest_plugins = ["test_actions_helpers"]


def read_seed(name: str) -> pd.DataFrame:
    """A seed as the demo builds it: its programme files, the project's other seeds."""
    path = DEMO_PROGRAMMES_DIR / f"{name}.csv"
    return pd.read_csv(path if path.exists() else PROJECT_DIR / "seeds" / f"{name}.csv")


def offerings(connection) -> pd.DataFrame:
    """Programme course offerings: Moodle courses whose idnumber is the code, or
    the code, '-' and a term (case-insensitive)."""
    courses = connection.execute(f"select id as course_id, idnumber from {M}course").df()
    programme_courses = read_seed("programme_courses")
    rows = []
    for course in courses.itertuples():
        idnumber = (course.idnumber or "").lower()
        for item in programme_courses.itertuples():
            code = item.course_code.lower()
            if idnumber == code or idnumber.startswith(code + "-"):
                rows.append(
                    {
                        "course_id": course.course_id,
                        "programme_code": item.programme_code,
                        "course_code": item.course_code,
                        "course_position": item.course_position,
                        "seed_pass_share": item.pass_grade_share,
                    }
                )
    return pd.DataFrame(rows)


def learner_courses(connection, at_epoch: int) -> pd.DataFrame:
    """Every learner-course of a programme offering, with Moodle's facts about it."""
    learners = connection.execute(
        f"""
        with
        {course_ctes(at_epoch)}
        course_items as (
            select id as item_id, courseid as course_id, grademin, grademax, gradepass
            from {M}grade_items where itemtype = 'course' and gradetype = 1
        ),
        enrolments as (
            select ue.userid as user_id, e.courseid as course_id, e.enrol as plugin,
                ue.status = 0 and e.status = 0 as is_enabled,
                ue.status = 0 and e.status = 0 and (ue.timeend = 0 or ue.timeend > {at_epoch})
                    as is_open
            from {M}user_enrolments ue join {M}enrol e on e.id = ue.enrolid
        )
        select
            learners.user_id, learners.course_id, learners.is_active, learners.is_account_closed,
            learners.is_email_stopped,
            learners.firstname, learners.lastname, learners.email,
            learner_id_of(learners.user_id) as learner_id,
            learner_course_of(learners.user_id, learners.course_id) as learner_course_id,
            case
                when c.enddate > 0 then c.enddate
                else coalesce(nullif(c.startdate, 0), learners.enrolled_epoch)
                    + 604800 * coalesce(sections.sections, 16)
            end <= {at_epoch} as is_outcome_known,
            -- greatest() and least() skip nulls: clip by hand.
            case
                when g.finalgrade is null or ci.grademax <= ci.grademin then null
                when g.finalgrade < ci.grademin then 0.0
                when g.finalgrade > ci.grademax then 1.0
                else (g.finalgrade - ci.grademin) / (ci.grademax - ci.grademin)
            end as grade_share,
            case when ci.gradepass > ci.grademin
                then (ci.gradepass - ci.grademin) / (ci.grademax - ci.grademin) end
                as course_pass_share,
            exists (
                select 1 from {M}course_completions cc
                where cc.userid = learners.user_id and cc.course = learners.course_id
                    and cc.timecompleted > 0 and cc.timecompleted <= {at_epoch}
            ) as is_completed,
            (select bool_or(is_open) from enrolments en
                where en.user_id = learners.user_id and en.course_id = learners.course_id)
                as has_open_enrolment
        from learners
        join {M}course c on c.id = learners.course_id
        left join sections on sections.course_id = learners.course_id
        left join course_items ci on ci.course_id = learners.course_id
        left join {M}grade_grades g on g.itemid = ci.item_id and g.userid = learners.user_id
            and g.finalgrade is not null
        """
    ).df()
    enrolments = connection.execute(
        f"select ue.userid as user_id, e.courseid as course_id, e.enrol as enrolment_plugin, "
        f"ue.status = 0 and e.status = 0 as is_enabled "
        f"from {M}user_enrolments ue join {M}enrol e on e.id = ue.enrolid"
    ).df()
    tracks = enrolments.merge(read_seed("enrolment_tracks"), on="enrolment_plugin", how="left")
    tracks["track_priority"] = tracks.track_priority.fillna(999999)
    tracks["disabled"] = ~tracks.is_enabled
    best = (
        tracks.sort_values(["disabled", "track_priority", "enrolment_plugin"])
        .drop_duplicates(["user_id", "course_id"])
        .rename(columns={"enrolment_track": "track"})
    )
    best["track"] = best.track.fillna("unmapped")
    best["is_free_track"] = best.is_free_track.fillna(False).astype(bool)
    best["is_certificate_track"] = best.is_certificate_eligible.fillna(False).astype(bool)
    frame = learners.merge(offerings(connection), on="course_id").merge(
        best[["user_id", "course_id", "track", "is_free_track", "is_certificate_track"]],
        on=["user_id", "course_id"],
        how="left",
    )
    frame["pass_share"] = frame.seed_pass_share.fillna(frame.course_pass_share).fillna(0.5)
    frame["is_grade_passing"] = (frame.grade_share >= frame.pass_share).fillna(False)
    frame["has_passed"] = frame.is_outcome_known & frame.is_grade_passing
    frame["is_in_progress"] = (
        ~frame.is_outcome_known & frame.has_open_enrolment.fillna(False) & ~frame.is_account_closed
    )
    return frame


@pytest.fixture(scope="module")
def expected(built_demo, demo_moment) -> pd.DataFrame:
    with built_demo.connect() as connection:
        return learner_courses(connection, demo_moment)


@pytest.fixture(scope="module")
def open_paid_courses(built_demo, demo_moment) -> set[int]:
    paid = read_seed("enrolment_tracks").query("is_paid_track").enrolment_plugin.tolist()
    with built_demo.connect() as connection:
        frame = connection.execute(
            f"select distinct courseid from {M}enrol where status = 0 "
            f"and enrol in ({', '.join(repr(p) for p in paid)}) "
            f"and (enrolstartdate = 0 or enrolstartdate <= {demo_moment}) "
            f"and (enrolenddate = 0 or enrolenddate > {demo_moment})"
        ).df()
    return set(frame.courseid)


def per_programme(expected: pd.DataFrame) -> pd.DataFrame:
    """Per learner and programme: the course counts as Moodle's tables give them."""
    courses = expected.groupby(["programme_code", "learner_id", "course_code"]).agg(
        passed=("has_passed", "any"),
        completed=("is_completed", "any"),
        in_progress=("is_in_progress", "any"),
        eligible=(
            "has_passed",
            lambda s: bool((s & expected.loc[s.index, "is_certificate_track"]).any()),
        ),
        user_id=("user_id", "first"),
    )
    courses["in_progress"] &= ~courses.passed
    return courses.reset_index()


def test_programme_offerings_are_the_courses_the_matching_rule_names(built_demo):
    got = built_demo.frame(
        "select programme_code, course_code, course_id "
        "from analytics_actions.dim_programme_offerings"
    )
    with built_demo.connect() as connection:
        want = offerings(connection)
    assert len(want) >= 12
    key = ["programme_code", "course_code", "course_id"]
    assert set(map(tuple, got[key].values)) == set(map(tuple, want[key].values))


def test_programme_progress_counts_match_the_moodle_tables(built_demo, expected):
    progress = built_demo.frame("select * from analytics_actions.fct_programme_progress")
    courses = per_programme(expected)
    want = courses.groupby(["programme_code", "learner_id"]).agg(
        courses_taken=("course_code", "nunique"),
        courses_passed=("passed", "sum"),
        courses_completed=("completed", "sum"),
        courses_in_progress=("in_progress", "sum"),
        courses_certificate_eligible=("eligible", "sum"),
    )
    got = progress.set_index(["programme_code", "learner_id"])[want.columns]
    assert len(want) > 200
    assert set(got.index) == set(want.index)
    pd.testing.assert_frame_equal(
        got.sort_index().astype(int), want.sort_index().astype(int), check_names=False
    )
    assert (want.courses_passed > 0).sum() > 50
    assert (want.courses_in_progress > 0).sum() > 50


def test_upgrade_list_is_exactly_the_learners_passing_on_the_free_track(
    built_demo, expected, open_paid_courses
):
    got = built_demo.frame("select * from analytics_actions.rpt_outreach_upgrade_track")
    candidates = expected[
        expected.is_in_progress
        & expected.is_active
        & expected.is_free_track
        & expected.is_grade_passing
        & expected.course_id.isin(open_paid_courses)
        & ~expected.is_email_stopped
    ]
    assert len(candidates) > 20
    assert set(got.learner_course_id) == set(candidates.learner_course_id)
    assert got.learner_course_id.is_unique
    assert (got.enrolment_track == "audit").all()
    assert (got.grade_share >= got.pass_grade_share).all()
    # Learners on the paid track and learners below the pass grade are never asked.
    paid_or_failing = expected[
        expected.is_in_progress & (~expected.is_free_track | ~expected.is_grade_passing)
    ]
    assert len(paid_or_failing) > 20
    assert not set(paid_or_failing.learner_course_id) & set(got.learner_course_id)


def test_next_course_list_is_exactly_the_learners_who_passed_some_but_not_all(built_demo, expected):
    got = built_demo.frame("select * from analytics_actions.rpt_outreach_next_course")
    courses = per_programme(expected)
    positions = read_seed("programme_courses")
    want = []
    for (programme, learner_id), group in courses.groupby(["programme_code", "learner_id"]):
        plan = positions[positions.programme_code == programme].sort_values("course_position")
        passed = set(group.course_code[group.passed])
        in_progress = set(group.course_code[group.in_progress])
        if not passed or len(passed) == len(plan):
            continue
        next_code = next(code for code in plan.course_code if code not in passed)
        if next_code in in_progress:
            continue
        user_id = group.user_id.iloc[0]
        account = expected[expected.user_id == user_id].iloc[0]
        if not account.is_account_closed and not account.is_email_stopped:
            want.append((programme, learner_id, next_code, next_code in set(group.course_code)))
    assert len(want) > 20
    got_rows = set(
        zip(got.programme_code, got.learner_id, got.next_course_code, got.is_retake, strict=True)
    )
    assert got_rows == set(want)
    assert not got.duplicated(["programme_code", "learner_id"]).any()


def test_outreach_contact_fields_only_with_include_pii(built_demo, expected):
    for model in ("rpt_outreach_upgrade_track", "rpt_outreach_next_course"):
        hidden = built_demo.frame(
            f"select first_name, full_name, email from analytics_actions.{model}"
        )
        assert hidden.isna().all().all()
    sql = compile_sql(built_demo, "rpt_outreach_upgrade_track", NAMED_EARLIER)
    with built_demo.connect() as connection:
        shown = connection.execute(sql).df()
    merged = shown.merge(expected, on="learner_course_id", suffixes=("", "_moodle"))
    merged = merged.drop_duplicates("learner_course_id")
    assert len(merged) == len(shown) > 0
    assert (merged.first_name == merged.firstname).all()
    assert (merged.email == merged.email_moodle).all()


def test_a_site_without_programme_files_gets_empty_programmes_and_no_warning(built_demo, tmp_path):
    """A site's build reads the headers-only programme files unless MOODLE_PROGRAMMES_DIR
    names its own: no programme, no warning that a programme course has no Moodle course
    (the demo's programme codes are not the site's courses)."""
    # A copy of the built warehouse: built_demo is shared by the session's tests.
    warehouse = tmp_path / built_demo.warehouse.name
    shutil.copy(built_demo.warehouse, warehouse)
    site = dataclasses.replace(
        built_demo,
        directory=tmp_path,
        warehouse=warehouse,
        extra_env={"MOODLE_PROGRAMMES_DIR": "programmes"},
    )
    result = site.dbt(
        "build",
        "-s",
        "programmes programme_courses dim_programme_offerings",
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
    )
    assert "PASS programme_courses_have_a_moodle_course" in result.stdout
    assert "WARN=0" in result.stdout
    for table in ("analytics_seeds.programme_courses", "analytics_actions.dim_programme_offerings"):
        assert site.query(f"select count(*) from {table}") == [(0,)]
