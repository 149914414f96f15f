"""The analyses (analyses/) compile, read marts only, are documented, and answer on the
built demo: with their default parameters, with parameters that narrow them, and with
a parameter that makes no sense (a clear error). PostgreSQL: test_postgres_build.py."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis_queries import analysis_names, compile_analyses
from mart_compare import manifest_of

MART_PREFIXES = ("fct_", "dim_", "rpt_")
_VAR = re.compile(r"""\bvar\(\s*['"](\w+)['"]""")


@pytest.fixture(scope="module")
def defaults(built_demo) -> dict[str, pd.DataFrame]:
    """Every analysis with its default parameters, compiled and run on the demo."""
    compiled = compile_analyses(built_demo)
    with built_demo.connect() as connection:
        return {name: connection.execute(sql).df() for name, sql in compiled.items()}


@pytest.fixture(scope="module")
def analysis_nodes(built_demo, defaults) -> dict[str, dict]:
    manifest = manifest_of(built_demo.directory / "target")
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "analysis"
    }


def test_every_analysis_answers_on_the_demo(defaults):
    assert len(defaults) == 7
    empty = [name for name, rows in defaults.items() if rows.empty]
    assert not empty


def test_analyses_read_marts_only(built_demo, analysis_nodes):
    nodes = manifest_of(built_demo.directory / "target")["nodes"]
    for name, node in analysis_nodes.items():
        parents = [nodes[parent] for parent in node["depends_on"]["nodes"]]
        assert parents, name
        for parent in parents:
            assert parent["resource_type"] == "model", (name, parent["name"])
            assert parent["name"].startswith(MART_PREFIXES), (name, parent["name"])
            assert parent["fqn"][1] not in ("staging", "intermediate"), (name, parent["name"])


def test_every_analysis_says_what_it_answers_its_grain_and_parameters(analysis_nodes):
    assert sorted(analysis_nodes) == analysis_names()
    for name, node in analysis_nodes.items():
        assert len(node["description"]) > 80, name
        meta = node["config"]["meta"] or node["meta"]
        assert meta["grain"].startswith("one row per"), name
        # Every dbt var the SQL reads is a documented parameter, with its default.
        assert set(_VAR.findall(node["raw_code"])) == set(meta.get("parameters", {})), name
        assert all("default" in text for text in meta.get("parameters", {}).values()), name


def test_answers_hold_every_row_of_their_marts(built_demo, defaults):
    def count(sql: str) -> int:
        return built_demo.query(sql)[0][0]

    assert len(defaults["weekly_engagement_by_course"]) == count(
        "select count(*) from analytics_marts.fct_course_weeks where is_complete_week"
    )
    assert len(defaults["teacher_at_risk_learners"]) == count(
        "select count(*) from analytics_actions.fct_intervention_queue "
        "where risk_band in ('high', 'medium')"
    )
    assert len(defaults["outreach_candidates"]) == count(
        "select (select count(*) from analytics_actions.rpt_outreach_upgrade_track)"
        " + (select count(*) from analytics_actions.rpt_outreach_next_course)"
    )
    assert len(defaults["completion_and_dropout_by_teacher"]) == count(
        "select count(*) from analytics_marts.rpt_teacher_comparison"
    )
    assert set(defaults["completion_and_dropout_by_course"].course_status) == {"finished"}


def test_the_funnel_narrows_from_starters_to_certificates(built_demo, defaults):
    funnel = defaults["programme_completion_funnel"]
    progress = built_demo.frame("select * from analytics_actions.fct_programme_progress")
    for code, stages in funnel.groupby("programme_code"):
        learners = progress[progress.programme_code == code]
        stages = stages.sort_values("stage_number")
        courses = int(learners.programme_courses.max())
        assert list(stages.stage_name) == [
            "started",
            *(f"passed {k} of {courses}" for k in range(1, courses + 1)),
            "certificate earned",
        ]
        assert stages.learners.iloc[0] == len(learners)
        assert stages.learners.iloc[-1] == learners.is_certificate_earned.sum()
        passed = stages.learners.iloc[:-1].tolist()
        assert passed == sorted(passed, reverse=True)


def test_parameters_narrow_the_answers(built_demo):
    staff_id, course_id = built_demo.query(
        "select staff_id, min(course_id) from analytics_actions.fct_intervention_queue "
        "group by staff_id order by count(*) desc limit 1"
    )[0]
    compiled = compile_analyses(
        built_demo,
        variables={
            "staff_id": staff_id,
            "programme_code": "DS",
            "outreach_list": "next_course",
            "course_ids": [course_id],
            "complete_weeks_only": False,
            "course_status": None,
            "cohort_name": "2026-03",
        },
    )
    with built_demo.connect() as connection:
        answers = {name: connection.execute(sql).df() for name, sql in compiled.items()}
    at_risk = answers["teacher_at_risk_learners"]
    assert len(at_risk) and set(at_risk.staff_id) == {staff_id}
    assert list(at_risk.rank_for_teacher) == sorted(at_risk.rank_for_teacher)
    assert set(answers["programme_completion_funnel"].programme_code) == {"DS"}
    outreach = answers["outreach_candidates"]
    assert len(outreach) and set(outreach.outreach_list) == {"next_course"}
    assert set(outreach.programme_codes) == {"DS"}
    weeks = answers["weekly_engagement_by_course"]
    assert set(weeks.course_id) == {course_id}
    assert (
        len(weeks)
        == built_demo.query(
            f"select count(*) from analytics_marts.fct_course_weeks where course_id = {course_id}"
        )[0][0]
    )
    assert (
        len(answers["completion_and_dropout_by_course"])
        == built_demo.query("select count(*) from analytics_marts.rpt_course_comparison")[0][0]
    )
    assert set(answers["risk_accuracy_by_week"].cohort_name) == {"2026-03"}


def test_a_parameter_out_of_its_choices_names_it(built_demo):
    with pytest.raises(AssertionError) as failure:
        compile_analyses(built_demo, variables={"outreach_list": "everyone"})
    assert "var outreach_list must be all, upgrade_track or next_course" in str(failure.value)
