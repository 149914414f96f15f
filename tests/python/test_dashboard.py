"""The dashboard page: chart helpers, the page builder and the page in headless Chromium."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import duckdb
import pytest

from dbt_project import PROJECT_DIR
from moodle_analytics.dashboard import build_dashboard
from moodle_analytics.dashboard.browser import offline_page
from moodle_analytics.dashboard.charts import (
    Axis,
    Band,
    Series,
    bar_chart,
    histogram,
    line_chart,
    nice_ticks,
    number,
    percent,
    stacked_bars,
)
from moodle_analytics.dashboard.cli import main

ARTIFACTS = PROJECT_DIR / "artifacts" / "dashboard"

# Sections and charts the page must show on the default demo site.
CORE_SECTIONS = (
    "overview",
    "weekly-active",
    "engagement-trend",
    "course-comparison",
    "data-quality",
)
LATER_SECTIONS = ("risk", "intervention-queue", "programme-progress", "backtest")
CORE_CHARTS = (
    "activity-heatmap",
    "engagement-active-learners",
    "engagement-minutes",
    "engagement-term-vs-typical",
    "course-dropout",
    "course-engagement-vs-dropout",
    "log-reconciliation",
)


# ---------------------------------------------------------------- charts


@pytest.mark.parametrize(
    ("low", "high"), [(0, 1), (0.6, 0.81), (0, 357_260), (3, 3), (-5, 12), (0.15, 0.4)]
)
def test_ticks_cover_the_range_with_round_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    assert 3 <= len(ticks) <= 12


def test_formats():
    assert number(1234) == "1,234"
    assert number(12.34) == "12.3"
    assert number(float("nan")) == "–"
    assert percent(0.256) == "26%"


def test_line_chart_has_axes_units_legend_and_values_on_hover():
    svg = line_chart(
        [Series("Active learners", [(1, 10), (2, 12), (3, None), (4, 8)])],
        Axis("Course week"),
        Axis("Learners"),
        bands=[Band("Learners followed", [(1, 0, 20), (4, 0, 20)])],
        reference=(5, "target"),
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for label in ("Course week", "Learners", "Active learners", "Learners followed", "target"):
        assert f">{label}<" in svg
    # A missing value breaks the line into two pieces instead of drawing through it.
    assert svg.count("<polyline") == 2
    assert "<title>Active learners: 2 → 12</title>" in svg


def test_chart_text_is_escaped():
    svg = bar_chart([("<script>alert(1)</script> & co", 3.0)], Axis("Learners"))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_histogram_and_stacked_bars_show_every_category():
    svg = histogram(
        [1, 5, 2],
        [0, 0.5, 0.75, 1.0],
        Axis("Risk", format=percent),
        Axis("N"),
        legend=[("high risk", "#c0392b")],
    )
    assert svg.count("<rect") == 3 + 1  # three bars and the legend key
    svg = stacked_bars(
        [("Course A", [3, 1, 0]), ("Course B", [0, 2, 2])],
        [("Struggling", "#c0392b"), ("Doing OK", "#e69f00"), ("Doing well", "#2e8b57")],
        Axis("Share", format=percent),
    )
    for name in ("Struggling", "Doing OK", "Doing well", "Course A", "n=4"):
        assert f">{name}<" in svg


# ---------------------------------------------------------------- page builder


def test_missing_marts_are_named_on_the_page_not_faked(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = build_dashboard(empty, tmp_path / "page.html")
    html = result.path.read_text()
    assert "fct_course_weeks" in result.missing_tables
    assert html.count('class="missing"') == len(result.sections)
    assert "<svg" not in html


def test_cli_reports_where_the_page_is_and_fails_clearly_without_warehouse(tmp_path, capsys):
    assert (
        main(["--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "x.html")]) == 2
    )
    assert "dbt build" in capsys.readouterr().err
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    out = tmp_path / "site" / "dashboard.html"
    assert (
        main(["--warehouse", str(empty), "--source", str(tmp_path / "none"), "--out", str(out)])
        == 0
    )
    assert f"Dashboard: {out.resolve()}" in capsys.readouterr().out
    assert out.is_file()


def _risk_warehouse(path: Path) -> Path:
    """A warehouse holding only the tables of the risk sections, with the columns the
    risk models write (ten learners of two courses)."""
    connection = duckdb.connect(str(path))
    connection.execute("create schema analytics_marts; create schema analytics_ml")
    connection.execute(
        """
        create table analytics_marts.dim_courses as
        select * from (values (1, 'A101', 'Course A', 'running'), (2, 'B202', 'Course B',
                               'finished')) t(course_id, course_short_name, course_name,
                                              course_status)
        """
    )
    connection.execute(
        """
        create table analytics_ml.fct_learner_risk_scores as
        select 'l' || i as learner_id, 'lc' || i as learner_course_id, 1 + i % 2 as course_id,
               3 as course_week_number,
               i / 10.0 as dropout_probability,
               case when i >= 7 then 'high' when i >= 4 then 'medium' else 'low' end
                   as risk_band,
               case when i >= 7 then 'struggling' when i >= 4 then 'doing_ok'
                    else 'doing_well' end as segment,
               'no activity for ' || i || ' days' as reason_1, null as reason_2,
               null as reason_3, true as is_latest_week
        from range(10) t(i)
        """
    )
    connection.execute(
        """
        create table analytics_ml.fct_intervention_queue as
        select s.staff_id, c.course_short_name, c.course_name,
               row_number() over (partition by r.course_id, s.staff_id
                                  order by r.dropout_probability desc) as rank_in_course,
               'Get in touch personally' as suggested_action, r.*
        from analytics_ml.fct_learner_risk_scores as r
        inner join analytics_marts.dim_courses as c on r.course_id = c.course_id
        cross join (values ('teacher-1'), ('teacher-2')) as s(staff_id)
        where r.risk_band = 'high'
        """
    )
    connection.execute(
        """
        create table analytics_ml.rpt_risk_backtest as
        select * from (values ('all', 'model', 1, 0.61), ('all', 'model', 2, 0.70),
                              ('all', 'rule_based', 1, 0.58), ('all', 'rule_based', 2, 0.64),
                              ('2026-03', 'model', 1, 0.99))
            t(cohort_name, score_method, course_week_number, roc_auc)
        """
    )
    connection.execute(
        """
        create table analytics_ml.rpt_risk_model_comparison as
        select * from (values ('logistic', null, true, 0.74, 'simplest within 0.01'),
                              ('logistic', 1, false, 0.60, null),
                              ('boosting', null, false, 0.71, null))
            t(model_name, course_week_number, is_chosen, roc_auc, choice_reason)
        """
    )
    connection.close()
    return path


def test_risk_queue_and_backtest_sections_draw_from_the_model_tables(tmp_path):
    result = build_dashboard(_risk_warehouse(tmp_path / "risk.duckdb"), tmp_path / "page.html")
    sections = {section.id: section for section in result.sections}
    for name in ("risk", "intervention-queue", "backtest"):
        assert sections[name].available, sections[name].missing
    risk = sections["risk"].body
    for chart in ("risk-histogram", "risk-bands", "segments-by-course"):
        assert f'data-chart="{chart}"' in risk
    # Only the running course's learners: five of the ten, one of them high risk.
    assert ">n=5<" in risk and "Course B" not in risk and "B202" not in risk
    queue = sections["intervention-queue"].body
    # Each learner once (not once per teacher), ranked within the course, with the reasons.
    assert queue.count(">l9<") == 1 and queue.index(">l9<") < queue.index(">l7<")
    assert "no activity for 9 days" in queue and "Get in touch personally" in queue
    assert 'data-chart="queue-by-course"' in queue
    backtest = sections["backtest"].body
    assert 'data-chart="backtest-auc"' in backtest and "0.5 = guessing" in backtest
    assert "Rule-based score (small course weeks)" in backtest
    assert "0.99" not in backtest  # one cohort's line is not the all-cohorts line
    assert "Models compared" in backtest and "simplest within 0.01" in backtest
    assert ">0.740<" in backtest and ">0.600<" not in backtest


# ---------------------------------------------------------------- the demo site


@pytest.fixture(scope="module")
def dashboard(built_demo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    result = build_dashboard(built_demo.warehouse, out, source=built_demo.source)
    for section in result.sections:
        if section.id in CORE_SECTIONS:
            assert section.available, (section.id, section.missing)
    return result.path


@pytest.mark.slow
def test_page_is_one_self_contained_file(dashboard):
    html = dashboard.read_text()
    # Nothing is fetched: no external script, style sheet, image or font.
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    assert html.count("<script>") == 1


@pytest.mark.slow
@pytest.mark.browser
def test_page_renders_in_chromium_with_every_section_and_chart(dashboard):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with offline_page(width=1400, height=900) as (page, problems):
        page.goto(dashboard.as_uri())
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        for section in CORE_SECTIONS + LATER_SECTIONS:
            assert page.locator(f"section#{section} h2").count() == 1, section
        for section in CORE_SECTIONS:
            assert page.get_attribute(f"section#{section}", "data-available") == "true"
        for chart in CORE_CHARTS:
            figure = page.locator(f"figure[data-chart='{chart}']")
            assert figure.count() == 1, chart
            assert figure.locator("h3").inner_text().strip(), chart
            box = figure.locator("svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150, chart
            # Axis titles and tick labels are drawn.
            assert figure.locator("svg text").count() >= 6, chart
        panels = page.locator("figure.panel[data-chart^='weekly-active-']")
        assert panels.count() >= 10
        assert panels.first.locator("svg polyline").count() >= 1
        for section in LATER_SECTIONS:
            available = page.get_attribute(f"section#{section}", "data-available") == "true"
            assert available or page.locator(f"section#{section} p.missing").count() == 1

        # Sorting a table by a number column puts the largest value first on the second click.
        header = page.locator("#course-table thead th", has_text="Learners")
        header.click()
        header.click()
        learners = [
            float(value)
            for value in page.eval_on_selector_all(
                "#course-table tbody tr td:nth-child(3)",
                "cells => cells.map(cell => cell.getAttribute('data-sort'))",
            )
        ]
        assert learners == sorted(learners, reverse=True)

        page.screenshot(path=str(ARTIFACTS / "dashboard_full.png"), full_page=True)
        # The sticky section menu would cover the top of each section's picture.
        page.add_style_tag(content="nav.toc { position: static; }")
        for section in CORE_SECTIONS + LATER_SECTIONS + ("action-lists",):
            page.locator(f"section#{section}").screenshot(
                path=str(ARTIFACTS / f"section_{section}.png")
            )
        assert problems.script_errors() == []
        assert problems.blocked_requests == []

    with offline_page(width=420, height=900) as (page, problems):
        page.goto(dashboard.as_uri())
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "dashboard_phone.png"), full_page=False)
        assert problems.script_errors() == []
