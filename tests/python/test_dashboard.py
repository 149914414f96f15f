"""The dashboard pages: chart helpers, the reader of the marts and its scopes, the page
builder, and the pages and their course and teacher filters in headless Chromium.

The same pages built from the PostgreSQL targets are compared with these in
test_postgres_build.py, which holds the PostgreSQL builds of the demo."""

from __future__ import annotations

import itertools
import os
import re
import time
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
from moodle_analytics.dashboard.pages import read_courses, read_teachers
from moodle_analytics.dashboard.warehouse import Scope, Target, Warehouse, WarehouseError

ARTIFACTS = PROJECT_DIR / "artifacts" / "dashboard"

# Sections and charts the page must show on the default demo site.
CORE_SECTIONS = (
    "overview",
    "weekly-active",
    "engagement-trend",
    "course-comparison",
    "data-quality",
    "teachers",
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


# ---------------------------------------------------------------- reading the marts


def _two_course_warehouse(path: Path) -> Path:
    """Two courses: course 1 taught by teachers t1 and t2, course 2 by t2; learners a, b
    in course 1, b, c in course 2; one site-wide table without course or learner."""
    connection = duckdb.connect(str(path))
    connection.execute("create schema analytics_marts; create schema analytics_actions")
    connection.execute(
        """
        create table analytics_marts.dim_courses as
        select * from (values
            (1, 'A101', 'Course A', 'running', timestamp '2026-09-01', 't1, t2'),
            (2, 'B202', 'Course B', 'finished', timestamp '2026-01-10', 't2'),
            (3, 'C303', 'Course C', 'upcoming', timestamp '2027-01-10', null))
            t(course_id, course_short_name, course_name, course_status, starts_at,
              teacher_staff_ids);
        create table analytics_marts.fct_learner_courses as
        select * from (values ('a', 1), ('b', 1), ('b', 2), ('c', 2)) t(learner_id, course_id);
        create table analytics_actions.fct_programme_progress as
        select * from (values ('a', 'P1'), ('c', 'P1'), ('z', 'P1')) t(learner_id, programme_code);
        create table analytics_actions.fct_intervention_queue as
        select * from (values ('t1', 1, 'a'), ('t2', 1, 'a'), ('t2', 2, 'c'))
            t(staff_id, course_id, learner_id);
        create table analytics_marts.rpt_log_reconciliation as
        select 'used' as disposition, 'learner_activity' as reason, 10 as log_rows;
        create schema other; create table other.dim_courses as select 99 as course_id;
        """
    )
    connection.close()
    return path


def test_a_scope_narrows_each_table_to_the_courses_and_the_teacher(tmp_path):
    target = Target("duckdb", _two_course_warehouse(tmp_path / "w.duckdb"))
    with Warehouse.open(target) as wh:
        # Only the marts' schemas are read.
        assert wh.relations["dim_courses"] == '"analytics_marts"."dim_courses"'

        def values(scope: Scope, table: str, column: str) -> list:
            frame = wh.scoped(scope).frame(f"select {column} from {{t}} order by 1", t=table)
            return frame[column].tolist()

        course_1 = Scope((1,))
        assert values(course_1, "dim_courses", "course_id") == [1]
        assert values(course_1, "fct_learner_courses", "learner_id") == ["a", "b"]
        # Without a course_id: the learners of the courses.
        assert values(Scope((2,)), "fct_programme_progress", "learner_id") == ["c"]
        assert values(Scope(), "fct_programme_progress", "learner_id") == ["a", "c", "z"]
        # A teacher's rows of a table that has staff_id; other tables by course only.
        teacher = Scope((1, 2), "t2")
        assert values(teacher, "fct_intervention_queue", "course_id") == [1, 2]
        assert values(teacher.with_course(1), "fct_intervention_queue", "staff_id") == ["t2"]
        assert values(teacher, "rpt_log_reconciliation", "log_rows") == [10]
        assert not wh.is_course_scoped("rpt_log_reconciliation")
        # A query with common table expressions of its own keeps them.
        count = wh.scoped(course_1).scalar(
            "with learners as (select distinct learner_id from {f}) select count(*) from learners",
            f="fct_learner_courses",
        )
        assert count == 2
        # Rows of a date column arrive as timestamps, whichever engine read them.
        assert str(wh.frame("select starts_at from {c}", c="dim_courses")["starts_at"].dtype) in (
            "datetime64[us]",
            "datetime64[ns]",
        )
        courses = read_courses(wh)
        assert [course.course_id for course in courses] == [1, 3, 2]
        teachers = read_teachers(wh)
        assert [(t.label, t.course_ids) for t in teachers] == [
            ("Teacher t1", (1,)),
            ("Teacher t2", (1, 2)),
        ]


def test_a_warehouse_without_marts_or_a_failing_query_is_a_one_line_error(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(WarehouseError, match=r"no marts in analytics_marts, analytics_ml, "):
        Warehouse.open(Target("duckdb", empty))
    target = Target("duckdb", _two_course_warehouse(tmp_path / "w.duckdb"))
    with Warehouse.open(target) as wh, pytest.raises(WarehouseError, match="no_such_column"):
        wh.frame("select no_such_column from {c}", c="dim_courses")
    with pytest.raises(WarehouseError, match="target 'spark'"):
        Warehouse.open(Target("spark"))


# ---------------------------------------------------------------- page builder


def test_missing_marts_are_named_on_the_page_not_faked(tmp_path):
    warehouse = tmp_path / "partial.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "create schema analytics_marts; create table analytics_marts.rpt_log_reconciliation "
            "as select 'used' as disposition, 'learner_activity' as reason, 10 as log_rows"
        )
    result = build_dashboard(Target("duckdb", warehouse), tmp_path / "page.html")
    html = result.path.read_text()
    assert "fct_course_weeks" in result.missing_tables
    missing = [section for section in result.sections if not section.available]
    assert html.count('class="missing"') == len(missing) == len(result.sections) - 1
    assert html.count("<svg") == 1  # the log rows, the one section whose table is there
    assert result.teacher_pages == []


def _run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_reports_where_the_pages_are_and_fails_clearly(tmp_path, capsys, monkeypatch):
    out = tmp_path / "site" / "dashboard.html"
    code, said = _run(capsys, "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(out))
    assert code == 2 and "run `dbt build` first" in said
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    code, said = _run(capsys, "--warehouse", str(empty), "--out", str(out))
    assert code == 2 and said.count("\n") == 1
    assert "no marts in analytics_marts, analytics_ml, analytics_actions" in said
    assert "run `dbt build` first" in said
    # The courses and their teachers, and one mart of the site.
    warehouse = _two_course_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "drop table analytics_marts.fct_learner_courses; drop schema analytics_actions cascade"
        )
    args = ("--warehouse", str(warehouse), "--source", str(tmp_path / "none"), "--out", str(out))
    code, said = _run(capsys, *args)
    assert code == 0, said
    assert f"Dashboard: {out.resolve()}" in said and "Teachers' pages: 2" in said
    assert {path.name for path in out.parent.iterdir()} == {
        "dashboard.html",
        "teacher-t1.html",
        "teacher-t2.html",
    }
    # The PostgreSQL targets name the variable to fix (the server's errors are tested
    # against the private server in test_postgres_build.py).
    for key in [key for key in os.environ if key.startswith(("MOODLE_PG", "ANALYTICS_PG"))]:
        monkeypatch.delenv(key)
    monkeypatch.delenv("DBT_TARGET", raising=False)
    code, said = _run(capsys, "--target", "postgres", "--out", str(out))
    assert code == 2 and "MOODLE_PG_HOST, MOODLE_PG_PORT, MOODLE_PG_USER not set" in said
    env_file = tmp_path / "pg.env"
    env_file.write_text(
        "export MOODLE_PG_HOST=127.0.0.1\nexport MOODLE_PG_PORT=1\nexport MOODLE_PG_USER=bi\n"
    )
    code, said = _run(
        capsys, "--target", "duckdb_pg", "--env-file", str(env_file), "--out", str(out)
    )
    assert code == 2 and said.count("\n") == 1
    assert "nothing accepts connections on 127.0.0.1:1: check MOODLE_PG_HOST" in said
    code, said = _run(capsys, "--target", "postgres", "--env-file", str(tmp_path / "no.env"))
    assert code == 2 and "--env-file" in said and "no.env: no such file" in said
    code, said = _run(capsys, "--target", "spark", "--out", str(out))
    assert code == 2 and "target 'spark'" in said


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
    result = build_dashboard(
        Target("duckdb", _risk_warehouse(tmp_path / "risk.duckdb")), tmp_path / "page.html"
    )
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
    # Course B's own view of the risk section: its learners only (finished course).
    html = result.path.read_text()
    course_b = html.split('<section class="block" id="risk"')[1].split('data-view="2"')[1]
    assert ">n=5<" in course_b.split("</div></section>")[0]


# ---------------------------------------------------------------- the demo site


@pytest.fixture(scope="module")
def dashboard(built_demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    started = time.perf_counter()
    result = build_dashboard(Target("duckdb", built_demo.warehouse, built_demo.source), out)
    pages = [result.path, *result.teacher_pages]
    print(
        f"\ndashboard: {len(pages)} pages in {time.perf_counter() - started:.1f} s, "
        f"{sum(page.stat().st_size for page in pages) / 1e6:.1f} MB"
    )
    for section in result.sections:
        if section.id in CORE_SECTIONS:
            assert section.available, (section.id, section.missing)
    return result


@pytest.mark.slow
def test_pages_are_self_contained_files(dashboard):
    for page in [dashboard.path, *dashboard.teacher_pages]:
        html = page.read_text()
        # Nothing is fetched: no external script, style sheet, image or font; the only
        # links are to the pages beside it.
        assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
        assert "@import" not in html and "url(http" not in html
        assert html.count("<script>") == 1
        for link in set(re.findall(r'(?:href|value)="([^"#]+\.html)"', html)):
            assert (page.parent / link).is_file(), link


def _visible_card(page, label: str) -> str:
    """The value of the key figure of that label in the overview's view on show."""
    return page.eval_on_selector_all(
        "section#overview div.view:not([hidden]) .card",
        """(cards, label) => cards
            .filter(card => card.querySelector('.card-label').textContent === label)
            .map(card => card.querySelector('.card-value').textContent)""",
        label,
    )[0]


def _visible_rows(page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"table[data-table='{table}']:visible tbody tr",
        "rows => rows.map(row => Array.from(row.cells, cell => cell.innerText.trim()))",
    )


@pytest.mark.slow
@pytest.mark.browser
def test_page_renders_in_chromium_with_every_section_and_chart(dashboard):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with offline_page(width=1400, height=900) as (page, problems):
        page.goto(dashboard.path.as_uri())
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        for section in CORE_SECTIONS + LATER_SECTIONS:
            assert page.locator(f"section#{section} h2").count() == 1, section
        for section in CORE_SECTIONS:
            assert page.get_attribute(f"section#{section}", "data-available") == "true"
        for chart in CORE_CHARTS:
            figure = page.locator(f"figure[data-chart='{chart}']:visible")
            assert figure.count() == 1, chart
            assert figure.locator("h3").inner_text().strip(), chart
            box = figure.locator("svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150, chart
            # Axis titles and tick labels are drawn.
            assert figure.locator("svg text").count() >= 6, chart
        panels = page.locator("figure.panel[data-chart^='weekly-active-']:visible")
        assert panels.count() >= 10
        assert panels.first.locator("svg polyline").count() >= 1
        for section in LATER_SECTIONS:
            available = page.get_attribute(f"section#{section}", "data-available") == "true"
            assert available or page.locator(f"section#{section} p.missing").count() == 1

        # Sorting a table by a number column puts the largest value first on the second click.
        header = page.locator("table[data-table='course-table']:visible thead th").filter(
            has_text="Learners"
        )
        header.click()
        header.click()
        learners = [
            float(value)
            for value in page.eval_on_selector_all(
                "table[data-table='course-table']:visible tbody tr td:nth-child(3)",
                "cells => cells.map(cell => cell.getAttribute('data-sort'))",
            )
        ]
        assert len(learners) > 20 and learners == sorted(learners, reverse=True)

        page.screenshot(path=str(ARTIFACTS / "dashboard_full.png"), full_page=True)
        # The sticky section menu would cover the top of each section's picture.
        page.add_style_tag(content="nav.toc { position: static; }")
        for section in CORE_SECTIONS + LATER_SECTIONS + ("action-lists",):
            page.locator(f"section#{section}").screenshot(
                path=str(ARTIFACTS / f"section_{section}.png")
            )
        assert problems.script_errors() == []
        assert problems.blocked_requests == []


def _expected(built_demo, course_id: int, staff_id: str | None = None) -> dict:
    """What the marts say a page narrowed to a course (and a teacher) shows."""
    owner = f"and staff_id = '{staff_id}'" if staff_id else ""
    queued = built_demo.query(
        f"""
        select learner_id from (
            select learner_id, min(rank_in_course) as rank_in_course
            from analytics_actions.fct_intervention_queue
            where course_id = {course_id} {owner}
            group by learner_id)
        order by rank_in_course limit 5
        """
    )
    learners = built_demo.query(
        "select count(distinct learner_id) from analytics_marts.fct_learner_courses "
        f"where course_id = {course_id}"
    )[0][0]
    return {"learners": f"{learners:,}", "queue": [learner[:10] for (learner,) in queued]}


def _shown(page) -> dict:
    return {
        "learners": _visible_card(page, "Learners"),
        "queue": [row[2] for row in _visible_rows(page, "queue-table")],
    }


@pytest.mark.slow
@pytest.mark.browser
def test_choosing_a_course_then_a_teacher_shows_their_rows(dashboard, built_demo):
    """On the site page, choose a running course, then one of its teachers: the teacher's
    page opens on that course; then all of the teacher's courses."""
    course_id, course_label, staff_ids = built_demo.query(
        """
        select c.course_id, c.course_short_name, c.teacher_staff_ids
        from analytics_marts.dim_courses as c
        inner join analytics_actions.fct_intervention_queue as q on c.course_id = q.course_id
        where c.course_status = 'running' and c.teachers >= 2
        group by all order by count(distinct q.learner_id) desc, c.course_id limit 1
        """
    )[0]
    staff_id = sorted(staff_ids.split(", "))[-1]
    own_courses = built_demo.query(
        "select course_id from analytics_marts.dim_courses "
        f"where teacher_staff_ids like '%{staff_id}%' order by course_id"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with offline_page(width=1400, height=900) as (page, problems):
        page.goto(dashboard.path.as_uri())
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        assert _visible_card(page, "Courses") == str(len(built_demo.query(
            "select course_id from analytics_marts.dim_courses")))  # fmt: skip
        page.select_option("#course-filter", str(course_id))
        assert _shown(page) == _expected(built_demo, course_id)
        assert _visible_card(page, "Courses") == "1"
        assert [row[0] for row in _visible_rows(page, "course-table")] == [course_label]
        panels = page.locator("figure.panel:visible")
        assert panels.count() == 1
        assert panels.get_attribute("data-chart") == f"weekly-active-{course_id}"
        # The course's teachers only; site-wide sections say they are not narrowed.
        assert {row[0] for row in _visible_rows(page, "teacher-table")} == {
            f"Teacher {staff[:8]}" for staff in staff_ids.split(", ")
        }
        assert page.locator("section#data-quality p.site-wide").is_visible()
        # The course against the site's typical course, not against itself.
        typical = page.locator("figure[data-chart='engagement-term-vs-typical']:visible")
        assert "Finished courses, median" in typical.inner_text()
        assert course_label in typical.inner_text()
        assert course_label in page.locator("#showing").inner_text()
        page.screenshot(path=str(ARTIFACTS / "dashboard_course.png"), full_page=True)

        with page.expect_navigation():
            page.select_option("#teacher-filter", f"teacher-{staff_id}.html")
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        assert page.url.endswith(f"teacher-{staff_id}.html#course={course_id}")
        assert page.input_value("#course-filter") == str(course_id)
        assert _shown(page) == _expected(built_demo, course_id, staff_id)
        options = page.eval_on_selector_all(
            "#course-filter option", "options => options.map(option => option.value)"
        )
        assert sorted(options[1:], key=int) == [str(course) for (course,) in own_courses]
        page.screenshot(path=str(ARTIFACTS / "dashboard_teacher_course.png"), full_page=True)

        page.select_option("#course-filter", "all")
        assert _visible_card(page, "Courses") == str(len(own_courses))
        queue = [row[2] for row in _visible_rows(page, "queue-table")]
        expected = [
            learner
            for (course,) in own_courses
            for learner in _expected(built_demo, course, staff_id)["queue"]
        ]
        assert sorted(queue) == sorted(expected)
        page.screenshot(path=str(ARTIFACTS / "dashboard_teacher.png"), full_page=True)

        # A course the teacher does not teach: all their courses, and a note that says so.
        other = built_demo.query(
            "select min(course_id) from analytics_marts.dim_courses "
            f"where coalesce(teacher_staff_ids, '') not like '%{staff_id}%'"
        )[0][0]
        page.goto(
            dashboard.path.with_name(f"teacher-{staff_id}.html").as_uri() + f"#course={other}"
        )
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        assert page.input_value("#course-filter") == "all"
        assert f"Course {other} is not one of this page's courses" in page.inner_text(
            "#filter-note"
        )
        assert problems.script_errors() == []
        assert problems.blocked_requests == []

    with offline_page(width=420, height=900) as (page, problems):
        page.goto(dashboard.path.as_uri())
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "dashboard_phone.png"), full_page=False)
        page.goto(
            dashboard.path.with_name(f"teacher-{staff_id}.html").as_uri() + f"#course={course_id}"
        )
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        assert _shown(page) == _expected(built_demo, course_id, staff_id)
        page.screenshot(path=str(ARTIFACTS / "dashboard_phone_teacher.png"), full_page=False)
        page.locator("section#intervention-queue").screenshot(
            path=str(ARTIFACTS / "dashboard_phone_teacher_queue.png")
        )
        assert problems.script_errors() == []
