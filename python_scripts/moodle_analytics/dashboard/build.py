"""Build the dashboard page from a warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from moodle_analytics.dashboard.page import render_page
from moodle_analytics.dashboard.sections import SECTIONS, Section, latest_activity
from moodle_analytics.dashboard.warehouse import Warehouse

DEFAULT_TITLE = "Learning progress dashboard"


@dataclass
class DashboardResult:
    path: Path
    sections: list[Section]

    @property
    def missing_tables(self) -> list[str]:
        return sorted({name for section in self.sections for name in section.missing})


def build_dashboard(
    warehouse: Path,
    out: Path,
    *,
    source: Path | None = None,
    title: str = DEFAULT_TITLE,
) -> DashboardResult:
    """Write the page to `out` and return what it holds."""
    with Warehouse(warehouse, source) as wh:
        sections = [build(wh) for build in SECTIONS]
        as_of = latest_activity(wh)
    html = render_page(sections, title=title, as_of=as_of)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return DashboardResult(out, sections)
