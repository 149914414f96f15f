"""Build the dashboard pages from the marts of a dbt target: the site page and, beside
it, one page per teacher (pages.py), each section drawn once for the page's courses
and once for each of them, for the page's course filter."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from moodle_analytics.dashboard.page import SectionViews, render_page
from moodle_analytics.dashboard.pages import PagePlan, page_plans, read_courses, read_teachers
from moodle_analytics.dashboard.sections import SECTIONS, Section, latest_activity
from moodle_analytics.dashboard.warehouse import Scope, Target, Warehouse

DEFAULT_TITLE = "Learning progress dashboard"
# Teacher pages of an earlier run whose teacher is gone are removed (pages.teacher_page_name).
OLD_TEACHER_PAGE = re.compile(r"teacher-[0-9a-f]{32}\.html")


@dataclass
class DashboardResult:
    path: Path
    sections: list[Section]
    teacher_pages: list[Path] = field(default_factory=list)

    @property
    def missing_tables(self) -> list[str]:
        return sorted({name for section in self.sections for name in section.missing})


@dataclass
class _Built:
    """A section built through one scope, the tables it read, and what that scope did to
    each of them."""

    section: Section
    tables: tuple[str, ...]
    scope_key: tuple[str, ...]


class SectionBuilder:
    """Builds sections through scopes, each section once per set of rows it reads: a
    teacher's page shares its courses' views with the site page, apart from the sections
    reading a table of teachers' rows (the intervention queue)."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.built: dict[Callable, list[_Built]] = {}

    def build(self, build: Callable[[Warehouse], Section], scope: Scope) -> _Built:
        scoped = self.wh.scoped(scope)
        for earlier in self.built.setdefault(build, []):
            # The same rows of every table it read: the same section.
            if scoped.scope_key(earlier.tables) == earlier.scope_key:
                return earlier
        section = build(scoped)
        tables = tuple(sorted(scoped.tables_read))
        made = _Built(section, tables, scoped.scope_key(tables))
        self.built[build].append(made)
        return made

    def views(self, build: Callable[[Warehouse], Section], plan: PagePlan) -> SectionViews:
        """A section for the page's courses and, when choosing a course narrows one of the
        tables it read, for each course on its own; otherwise it is the same whatever the
        course."""
        whole = self.build(build, plan.scope)
        if not any(self.wh.is_course_scoped(table) for table in whole.tables):
            return SectionViews(whole.section, {}, site_wide=whole.section.available)
        per_course = {
            course.course_id: self.build(build, plan.scope.with_course(course.course_id))
            for course in plan.courses
        }
        return SectionViews(
            whole.section, {key: made.section.body for key, made in per_course.items()}, False
        )


def build_dashboard(
    target: Target,
    out: Path,
    *,
    title: str = DEFAULT_TITLE,
) -> DashboardResult:
    """Write the site page to `out` (and the teachers' pages beside it); return what the
    site page holds."""
    out = Path(out)
    with Warehouse.open(target) as wh:
        as_of = latest_activity(wh)
        teachers = read_teachers(wh)
        plans = page_plans(out.name, read_courses(wh), teachers)
        sections = SectionBuilder(wh)
        pages = [(plan, [sections.views(build, plan) for build in SECTIONS]) for plan in plans]
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for plan, parts in pages:
        html = render_page(parts, plan, teachers, title=title, as_of=as_of, site_file=out.name)
        path = out.parent / plan.file_name
        path.write_text(html, encoding="utf-8")
        written.append(path)
    for old in out.parent.glob("teacher-*.html"):
        if OLD_TEACHER_PAGE.fullmatch(old.name) and old not in written:
            old.unlink()
    return DashboardResult(out, [part.section for part in pages[0][1]], written[1:])
