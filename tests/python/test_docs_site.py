"""The generated dbt docs site renders in headless Chromium, offline, without script errors.

`dbt docs generate --static` writes one self-contained static_index.html; the
tests open it as a file with every network request blocked, wait for each page
to render, check what a reader should find there and save screenshots under
artifacts/docs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from dbt_project import PROJECT_DIR
from moodle_analytics.dashboard.browser import offline_page
from test_project_checks import generated_docs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = PROJECT_DIR / "artifacts" / "docs"
RENDER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def docs_site(built_demo) -> Path:
    site = generated_docs(built_demo) / "static_index.html"
    assert site.is_file()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return site


def _visit(page, site: Path, node: str, expected_text: str) -> str:
    """Open the page of ``node`` ("overview", or kind.name such as "model.fct_course_weeks"),
    wait for ``expected_text``, save a screenshot named after the node; the page's text."""
    kind, _, name = node.partition(".")
    route = f"{kind}/{kind}.moodle_analytics.{name}" if name else kind
    page.goto(f"{site.as_uri()}#!/{route}")
    page.get_by_text(expected_text, exact=False).first.wait_for(timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / f"{node.replace('.', '_')}.png"))
    return page.inner_text("body")


def test_overview_page_teaches_the_project(docs_site):
    with offline_page() as (page, problems):
        text = _visit(page, docs_site, "overview", "How to read the lineage")
        for heading in (
            "The layers",
            "Definitions",
            "Learner.",
            "Week.",
            "Session.",
            "As-of moment.",
            "Dropout.",
            "Risk.",
        ):
            assert heading in text
        assert problems.script_errors() == []
        assert problems.blocked_requests == []


def test_model_source_and_macro_pages_show_their_descriptions(docs_site):
    with offline_page() as (page, problems):
        text = _visit(page, docs_site, "model.fct_learner_weeks", "weeks without activity included")
        assert "learner_week_id" in text
        assert "minutes_on_task" in text

        text = _visit(
            page, docs_site, "source.moodle.logstore_standard_log", "The standard event log"
        )
        assert "edulevel" in text and "contextinstanceid" in text
        # Column descriptions decode Moodle's codes: expand the edulevel row to read it whole.
        page.locator("tr", has=page.locator("td", has_text="edulevel")).first.click()
        decoded = page.get_by_text("2 participating (a learner's action)", exact=False)
        decoded.last.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
        page.screenshot(path=str(ARTIFACTS / "source_logstore_edulevel.png"))

        text = _visit(page, docs_site, "macro.epoch_to_timestamp", "zero_is_null")
        assert "Most Moodle time columns use 0" in text
        assert problems.script_errors() == []


def test_lineage_graph_and_exposure_render(docs_site):
    with offline_page() as (page, problems):
        text = _visit(page, docs_site, "exposure.learning_progress_dashboard", "reads tables only")
        assert "fct_course_weeks" in text

        _visit(page, docs_site, "model.fct_course_weeks", "One row per course and course week")
        page.click(".launcher")
        canvas = page.locator("#cy canvas").first
        canvas.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_timeout(1500)  # the graph lays itself out, then paints
        shot = ARTIFACTS / "lineage_fct_course_weeks.png"
        page.screenshot(path=str(shot))
        # The graph is drawn on a canvas: it must hold more than a blank background.
        with Image.open(shot) as image:
            panel = image.convert("RGB").crop((image.width - 340, 120, image.width - 20, 700))
            assert len(panel.getcolors(maxcolors=1 << 20)) > 20
        assert problems.script_errors() == []
