"""The demo's designed outcomes: activity alone must not give them away.

One default-size site is generated for the module; every figure is computed
from its log, its grades and its ground truth file: quiet learners who pass,
busy learners who fail, break weeks after which learners come back, and a
ground truth that says what each of its columns means.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from moodle_analytics.demo.config import DemoConfig
from moodle_analytics.demo.generate import generate
from moodle_analytics.demo.personas import (
    PERSONAS,
    Design,
    activity_level,
    design_learner_course,
    last_week_on_calendar,
)
from moodle_analytics.demo.truth import TRUTH_COLUMNS

WEEK = 7 * 24 * 3600
DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo-data.md"


class Generated:
    def __init__(self, directory: Path):
        self.path = directory / "moodle.duckdb"
        result = generate(DemoConfig(), self.path)
        self.truth = result.ground_truth
        self.anomalies = result.anomalies
        self.con = duckdb.connect(str(self.path), read_only=True)
        self.con.register("truth", self.truth)
        self.con.register("anomalies", self.anomalies)

    def frame(self, query: str) -> pd.DataFrame:
        return self.con.execute(query).df()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Generated:
    generated = Generated(tmp_path_factory.mktemp("demo_outcomes"))
    yield generated
    generated.con.close()


@pytest.fixture(scope="module")
def weekly_events(site) -> pd.DataFrame:
    """Each learner's own log rows per course week of the term courses (injected rows aside)."""
    return site.frame(
        """SELECT tr.user_id, tr.course_id,
                  (l.timecreated - co.startdate) // 604800 + 1 AS week, count(*) AS events
           FROM truth tr
           JOIN public.mdl_course co ON co.id = tr.course_id AND co.startdate > 0
           JOIN public.mdl_logstore_standard_log l
             ON l.userid = tr.user_id AND l.courseid = tr.course_id AND l.realuserid IS NULL
           WHERE l.id NOT IN (SELECT log_id FROM anomalies)
           GROUP BY ALL"""
    )


@pytest.fixture(scope="module")
def finished(site, weekly_events) -> pd.DataFrame:
    """Learner-courses of finished term courses with their events up to the midpoint."""
    truth = site.truth
    truth = truth[truth["course_finished"] & (truth["term_index"] >= 0)].copy()
    midpoint = DemoConfig().weeks_per_term // 2
    upto = weekly_events[weekly_events["week"] <= midpoint]
    events = upto.groupby(["user_id", "course_id"])["events"].sum().rename("events_to_midpoint")
    truth = truth.join(events, on=["user_id", "course_id"])
    truth["events_to_midpoint"] = truth["events_to_midpoint"].fillna(0)
    truth["passed"] = truth["passed"].astype(bool)
    return truth


def test_every_trajectory_and_persona_is_designed(finished):
    assert set(finished["trajectory"]) == {"steady", "fade_out", "never_start"}
    assert set(finished["persona"]) == set(PERSONAS)
    # Every kind of outcome a school sees, and no course where nobody passes.
    assert set(finished["outcome"]) == {"passed", "failed", "dropped_out", "never_started"}
    assert finished.groupby("course_id")["passed"].mean().between(0.2, 0.95).all()


def test_quiet_learners_pass_and_busy_learners_fail(finished):
    steady = finished[finished["trajectory"] == "steady"]
    by_persona = steady.groupby("persona").agg(
        events=("events_to_midpoint", "median"), pass_rate=("passed", "mean")
    )
    assert by_persona.at["efficient", "events"] < by_persona.at["engaged", "events"]
    assert by_persona.at["engaged", "events"] < by_persona.at["struggling", "events"]
    assert by_persona.at["efficient", "pass_rate"] > by_persona.at["engaged", "pass_rate"]
    assert by_persona.at["struggling", "pass_rate"] < 0.5 < by_persona.at["engaged", "pass_rate"]
    # Among learners who stay to the end, many who pass did less than the median
    # learner who failed, and many who fail did more than the median who passed.
    passers = steady.loc[steady["passed"], "events_to_midpoint"]
    failers = steady.loc[~steady["passed"], "events_to_midpoint"]
    assert (passers < failers.median()).mean() > 0.25
    assert (failers > passers.median()).mean() > 0.25


def test_activity_alone_does_not_give_the_outcome_away(finished):
    # Real courses give about 0.8 for a click count at mid-course; a demo whose
    # failures are only learners who go quiet gives nearly 1.
    auc = roc_auc_score(~finished["passed"], -finished["events_to_midpoint"])
    assert 0.6 < auc < 0.88, auc


def test_struggling_learners_hand_in_less_later_and_weaker(site):
    work = site.frame(
        """WITH learners AS (
               SELECT user_id, course_id, persona FROM truth
               WHERE trajectory = 'steady' AND course_finished AND term_index >= 0),
           due AS (
               SELECT l.persona, l.user_id, a.id AS assignment, a.duedate
               FROM learners l JOIN public.mdl_assign a ON a.course = l.course_id),
           handed AS (
               SELECT assignment, userid, min(timemodified) AS handed_at
               FROM public.mdl_assign_submission
               WHERE status = 'submitted' AND attemptnumber = 0 GROUP BY ALL),
           graded AS (
               SELECT g.assignment, g.userid, avg(g.grade) AS grade
               FROM public.mdl_assign_grades g WHERE g.attemptnumber = 0 GROUP BY ALL)
           SELECT d.persona,
                  avg(CASE WHEN h.userid IS NULL THEN 0 ELSE 1 END) AS handed_in,
                  avg(CASE WHEN h.handed_at > d.duedate THEN 1 ELSE 0 END)
                      FILTER (WHERE h.userid IS NOT NULL) AS late,
                  avg(g.grade) FILTER (WHERE h.userid IS NOT NULL) AS grade
           FROM due d
           LEFT JOIN handed h ON h.assignment = d.assignment AND h.userid = d.user_id
           LEFT JOIN graded g ON g.assignment = d.assignment AND g.userid = d.user_id
           GROUP BY ALL"""
    ).set_index("persona")
    assert work.at["struggling", "handed_in"] < work.at["engaged", "handed_in"]
    assert work.at["engaged", "handed_in"] < work.at["efficient", "handed_in"]
    assert work.at["struggling", "late"] > work.at["engaged", "late"] > work.at["efficient", "late"]
    assert work.at["struggling", "grade"] < work.at["engaged", "grade"]


def test_a_break_week_is_quiet_and_learners_come_back(site, weekly_events):
    truth = site.truth
    steady = truth[
        (truth["trajectory"] == "steady") & (truth["break_week"] > 0) & truth["course_finished"]
    ]
    assert steady["course_id"].nunique() >= 3
    weeks = weekly_events.merge(steady[["user_id", "course_id", "break_week"]])
    offset = weeks["week"] - weeks["break_week"]
    events = weeks.assign(offset=offset).groupby("offset")["events"].sum()
    assert events[0] < 0.2 * min(events[-1], events[1])
    active = weeks.assign(offset=offset).pivot_table(
        index=["user_id", "course_id"], columns="offset", values="events", fill_value=0
    )
    before = active[active[-1] > 0]
    came_back = (before[1] + before[2] > 0).mean()
    assert came_back > 0.9
    assert (active[0] > 0).mean() < 0.25, "a few still come in the break"


def test_a_break_has_its_own_empty_section(site):
    sections = site.frame(
        """SELECT tr.course_id, tr.break_week, s.name, s.sequence
           FROM (SELECT DISTINCT course_id, break_week FROM truth WHERE break_week > 0) tr
           JOIN public.mdl_course_sections s
             ON s.course = tr.course_id AND s.section = tr.break_week"""
    )
    assert len(sections) > 0
    assert sections["name"].isin(["Reading week", "Easter break"]).all()
    assert (sections["sequence"].fillna("") == "").all()


def test_fading_learners_never_stop_in_a_break(site):
    fading = site.truth[(site.truth["trajectory"] == "fade_out") & (site.truth["break_week"] > 0)]
    assert len(fading) > 20
    assert (fading["last_active_week"] != fading["break_week"]).all()
    # Some leave right before the break and do not come back.
    assert (fading["last_active_week"] == fading["break_week"] - 1).any()


def test_the_ground_truth_says_what_each_column_means(site):
    assert list(site.truth.columns) == list(TRUTH_COLUMNS)
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS.read_text(encoding="utf-8"), re.M))
    assert documented == set(TRUTH_COLUMNS)


# ------------------------------------------------------------------ personas
def test_a_fading_learner_leaves_before_or_after_a_break_not_in_it():
    design = Design(0.0, 0.0, "fade_out", 6, "engaged")
    assert last_week_on_calendar(design, first_week=1, break_week=6) == 5
    assert last_week_on_calendar(design, first_week=6, break_week=6) == 7
    assert last_week_on_calendar(design, first_week=3, break_week=0) == 6
    assert last_week_on_calendar(design, first_week=8, break_week=0) == 8
    steady = Design(0.0, 0.0, "steady", 14, "engaged")
    assert last_week_on_calendar(steady, first_week=1, break_week=14) == 14


def test_activity_stops_outside_the_designed_weeks_and_mostly_in_a_break():
    lc = {
        "trajectory": np.array(["steady"] * 400 + ["fade_out"] * 100 + ["never_start"] * 100),
        "last_active_week": np.array([14] * 400 + [4] * 100 + [0] * 100),
        "first_week": np.array([1] * 300 + [3] * 100 + [1] * 200),
    }
    members = np.arange(600)
    rng = np.random.default_rng(1)
    week_two = activity_level(lc, members, 2, rng)
    assert (week_two[:300] > 0).all() and (week_two[300:400] == 0).all()
    assert (week_two[500:] == 0).all()
    assert (activity_level(lc, members, 5, rng)[400:500] == 0).all()
    in_break = activity_level(lc, members, 7, rng, break_week=7)
    assert 0 < (in_break[:300] > 0).mean() < 0.25


def test_designs_follow_the_traits():
    rng = np.random.default_rng(3)
    keen = [design_learner_course(rng, (1.5, 1.5), 14) for _ in range(2000)]
    weak = [design_learner_course(rng, (-1.5, -1.5), 14) for _ in range(2000)]

    def share(designs, key, value):
        return np.mean([getattr(d, key) == value for d in designs])

    assert share(keen, "trajectory", "steady") > share(weak, "trajectory", "steady")
    assert share(weak, "persona", "struggling") > share(keen, "persona", "struggling")
    fading = [d.last_active_week for d in keen + weak if d.trajectory == "fade_out"]
    assert min(fading) >= 1 and max(fading) <= int(0.72 * 14)
