"""A dashboard page: one self-contained HTML file (inline CSS, SVG and script) that
works offline, from a file: address.

Each section that choosing a course narrows holds one view per course beside the view
of all the page's courses; the course filter shows one view, in plain JavaScript. The
teacher filter opens the chosen teacher's page, the course kept in the address
(#course=<id>).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from moodle_analytics.dashboard.pages import PagePlan, Teacher
from moodle_analytics.dashboard.sections import Section
from moodle_analytics.dashboard.sections.values import counted

ALL = "all"
# A teacher's page names their courses in its header up to this many (the filter has all).
HEADER_COURSES = 6

STYLE = """
:root { --ink: #1f2933; --muted: #52606d; --line: #e4e7eb; --accent: #0072b2;
        --paper: #ffffff; --back: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--back); color: var(--ink);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; }
header.top { background: #102a43; color: #fff; padding: 22px 32px 18px; }
header.top h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header.top p { margin: 0; color: #d9e2ec; }
nav.toc { position: sticky; top: 0; z-index: 2; background: #243b53; padding: 8px 32px;
          display: flex; flex-wrap: wrap; gap: 6px 18px; }
nav.toc a { color: #f0f4f8; text-decoration: none; font-size: 14px; }
nav.toc a:hover { text-decoration: underline; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 32px 48px; }
section.block { background: var(--paper); border: 1px solid var(--line); border-radius: 10px;
                padding: 20px 24px 22px; margin: 0 0 22px; scroll-margin-top: 72px; }
section.block > h2 { margin: 0 0 4px; font-size: 21px; }
section.block > p.lead { margin: 0 0 16px; color: var(--muted); max-width: 900px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 14px;
         margin-bottom: 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card-label { font-size: 13px; color: var(--muted); text-transform: uppercase;
              letter-spacing: .04em; }
.card-value { font-size: 32px; font-weight: 650; margin: 2px 0; }
.card-note { font-size: 13px; color: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(520px, 100%), 1fr));
           gap: 18px; }
figure { margin: 0; }
figure.wide { grid-column: 1 / -1; }
figure figcaption h3 { margin: 0; font-size: 16px; }
figure figcaption p { margin: 2px 0 8px; color: var(--muted); font-size: 13.5px; }
.figures > figure, section.block > figure { border: 1px solid var(--line); border-radius: 8px;
                                            padding: 12px 14px; margin-bottom: 16px; }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(340px, 100%), 1fr));
             gap: 12px; margin-bottom: 18px; }
.multiples figure.panel { border: 1px solid var(--line); border-radius: 8px;
                          padding: 8px 10px 4px; }
.multiples figure.panel h3 { font-size: 14.5px; }
.multiples figure.panel p { font-size: 12.5px; margin-bottom: 2px; }
p.legend { margin: 0 0 10px; font-size: 14px; color: var(--ink); }
.key { display: inline-block; vertical-align: middle; margin: 0 6px 0 14px; }
.key:first-child { margin-left: 0; }
.key.line { width: 22px; height: 3px; background: #0072b2; }
.key.area { width: 16px; height: 12px; background: #cbd2d9; }
p.note { color: var(--muted); font-size: 13.5px; }
p.missing { background: #fff8e6; border: 1px solid #f0d9a0; border-radius: 6px;
            padding: 10px 14px; margin: 0; }
.table-wrap { overflow-x: auto; }
table.data { border-collapse: collapse; width: 100%; font-size: 14px; }
table.data caption { caption-side: bottom; text-align: left; color: var(--muted);
                     font-size: 12.5px; padding-top: 6px; }
table.data th { text-align: left; font-weight: 600; border-bottom: 2px solid var(--line);
                padding: 6px 8px; white-space: nowrap; cursor: pointer; user-select: none; }
table.data th[data-kind="number"] { text-align: right; }
table.data th.sorted-asc::after { content: " ▲"; font-size: 10px; }
table.data th.sorted-desc::after { content: " ▼"; font-size: 10px; }
table.data td { padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.data td.num { text-align: right; white-space: nowrap; min-width: 84px; }
table.data td:first-child { white-space: nowrap; }
table.data tbody tr:hover { background: #f0f4f8; }
.cell { position: relative; display: block; min-width: 72px; }
.cell .bar { position: absolute; left: 0; top: 0; bottom: 0; background: #d6e6f5;
             border-radius: 3px; }
.cell .value { position: relative; padding: 0 4px; }
ul.reasons { margin: 0; padding-left: 16px; min-width: 280px; }
ul.reasons li { margin: 0 0 2px; }
h3.table-title { font-size: 16px; margin: 18px 0 6px; }
code { background: #f0f4f8; padding: 1px 4px; border-radius: 4px; }
footer { color: var(--muted); font-size: 13px; text-align: center; padding: 0 0 28px; }
svg.chart { display: block; max-width: 100%; height: auto; }
.filters { margin-left: auto; display: flex; flex-wrap: wrap; gap: 6px 14px;
           align-items: center; }
.filters label { color: #f0f4f8; font-size: 14px; }
.filters select { font: inherit; font-size: 14px; max-width: 240px; margin-left: 4px;
                  padding: 2px 4px; border-radius: 4px; border: 1px solid #829ab1; }
p.filter-note { background: #e6f0fa; border: 1px solid #b3cde6; border-radius: 6px;
                padding: 8px 14px; margin: 0 0 16px; }
p.site-wide { margin: 0 0 12px; }
/* Phones: one column; a wide chart keeps a legible size and scrolls sideways; a table
   row becomes a block of labelled lines. */
@media (max-width: 700px) { nav.toc { position: static; padding: 8px 16px; }
  main { padding: 12px; }
  .cards { grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; }
  .card { padding: 10px 12px; } .card-value { font-size: 26px; }
  header.top { padding: 16px; } section.block { padding: 14px; }
  .filters { margin-left: 0; width: 100%; order: -1; padding-bottom: 4px; }
  .filters select { max-width: 100%; }
  figure.wide { overflow-x: auto; } figure.wide svg.chart { min-width: 720px; }
  table.data thead { display: none; }
  table.data tr { display: block; border-bottom: 2px solid var(--line); padding: 6px 0; }
  table.data td, table.data td.num { display: flex; gap: 12px; justify-content: space-between;
    text-align: right; border: 0; padding: 2px 4px; white-space: normal; min-width: 0; }
  table.data td::before { content: attr(data-label); color: var(--muted); text-align: left;
    font-size: 13px; white-space: nowrap; }
  table.data td .cell { min-width: 96px; } ul.reasons { min-width: 0; text-align: left; } }
@media print { nav.toc { display: none; } section.block { break-inside: avoid; } }
"""


# The course filter, the teacher filter and the sorting of the tables.
SCRIPT = """
(function () {
  var courses = document.getElementById("course-filter");
  var teachers = document.getElementById("teacher-filter");
  var note = document.getElementById("filter-note");
  var showing = document.getElementById("showing");
  function show(key) {
    document.querySelectorAll("div.view").forEach(function (view) {
      view.hidden = view.getAttribute("data-view") !== key;
    });
    document.querySelectorAll("p.site-wide").forEach(function (text) {
      text.hidden = key === "all";
    });
    document.body.setAttribute("data-course", key);
    showing.textContent = key === "all" ? showing.getAttribute("data-all")
      : courses.options[courses.selectedIndex].text;
  }
  function chosenCourse() {
    return courses.value === "all" ? "" : "#course=" + courses.value;
  }
  courses.addEventListener("change", function () {
    note.hidden = true;
    show(courses.value);
    if (window.history && history.replaceState) {
      history.replaceState(null, "", chosenCourse() || location.pathname);
    }
  });
  if (teachers) {
    teachers.addEventListener("change", function () {
      location.href = teachers.value + chosenCourse();
    });
  }
  // A course asked for in the address (#course=<id>): chosen if the page has it.
  function askedCourse() {
    var asked = /course=([0-9]+)/.exec(location.hash);
    if (!asked) { return; }
    var known = Array.prototype.some.call(courses.options, function (option) {
      return option.value === asked[1];
    });
    note.hidden = known;
    if (known) {
      courses.value = asked[1];
    } else {
      courses.value = "all";
      note.textContent = note.getAttribute("data-unknown").replace("%s", asked[1]);
    }
    show(courses.value);
  }
  window.addEventListener("hashchange", askedCourse);
  show(courses.value);
  askedCourse();

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return numeric ? -Infinity : ""; }
    if (numeric) {
      var raw = cell.getAttribute("data-sort");
      return raw === null || raw === "" ? -Infinity : parseFloat(raw);
    }
    return cell.textContent.trim().toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (header, index) {
      header.addEventListener("click", function () {
        var numeric = header.getAttribute("data-kind") === "number";
        var ascending = !header.classList.contains("sorted-asc");
        table.querySelectorAll("thead th").forEach(function (other) {
          other.classList.remove("sorted-asc", "sorted-desc");
        });
        header.classList.add(ascending ? "sorted-asc" : "sorted-desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          if (x < y) { return ascending ? -1 : 1; }
          if (x > y) { return ascending ? 1 : -1; }
          return 0;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  document.body.setAttribute("data-ready", "true");
})();
"""


@dataclass
class SectionViews:
    """A section of the page for all its courses (``section``) and, when choosing a
    course narrows it, its body for each course; a site-wide section is the same
    whatever the course."""

    section: Section
    per_course: dict[int, str]
    site_wide: bool


def _options(choices: Sequence[tuple[str, str]], chosen: str) -> str:
    return "".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>'
        f"{escape(label)}</option>"
        for value, label in choices
    )


def _filters(plan: PagePlan, teachers: Sequence[Teacher], site_file: str) -> str:
    """The course filter (the page's courses) and the teacher filter (links to pages)."""
    courses = [(ALL, "All courses" if plan.teacher is None else "All their courses")]
    courses += [(str(course.course_id), course.choice_label) for course in plan.courses]
    html = (
        '<div class="filters"><label>Course <select id="course-filter">'
        f"{_options(courses, ALL)}</select></label>"
    )
    if teachers:
        pages = [(site_file, "All teachers")] + [(t.page_name, t.label) for t in teachers]
        here = plan.file_name if plan.teacher else site_file
        html += (
            f'<label>Teacher <select id="teacher-filter">{_options(pages, here)}</select></label>'
        )
    return html + "</div>"


def _section_html(part: SectionViews) -> str:
    section = part.section
    views = f'<div class="view" data-view="{ALL}">{section.body}</div>' + "".join(
        f'<div class="view" data-view="{course_id}" hidden>{body}</div>'
        for course_id, body in part.per_course.items()
    )
    if not part.per_course:
        note = (
            '<p class="note site-wide" hidden>The same whatever the course: these figures are '
            "the whole site's.</p>"
            if part.site_wide
            else ""
        )
        views = note + section.body
    return (
        f'<section class="block" id="{escape(section.id)}" '
        f'data-available="{"true" if section.available else "false"}">'
        f"<h2>{escape(section.title)}</h2>"
        f'<p class="lead">{escape(section.lead)}</p>{views}</section>'
    )


def _heading(title: str, plan: PagePlan) -> tuple[str, str]:
    """The page's title and what it covers."""
    if plan.teacher is None:
        return title, "All courses"
    courses = counted(len(plan.courses), "course", "courses")
    if len(plan.courses) <= HEADER_COURSES:
        courses += " (" + ", ".join(course.label for course in plan.courses) + ")"
    return (
        f"{title}: {plan.teacher.label}",
        f"{courses}: their learners and the intervention queue they own",
    )


def render_page(
    parts: Sequence[SectionViews],
    plan: PagePlan,
    teachers: Sequence[Teacher],
    *,
    title: str,
    as_of: str,
    site_file: str,
    generated_at: datetime | None = None,
) -> str:
    """The whole page."""
    generated_at = generated_at or datetime.now(UTC)
    heading, covers = _heading(title, plan)
    sections = [part.section for part in parts]
    toc = "".join(
        f'<a href="#{escape(section.id)}">{escape(section.title)}</a>' for section in sections
    )
    missing = sorted({name for section in sections for name in section.missing})
    missing_note = f" · Not built yet: {escape(', '.join(missing))}" if missing else ""
    unknown = "Course %s is not one of this page's courses: showing all of them."
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>"
        f'<header class="top"><h1>{escape(heading)}</h1>'
        f'<p><span id="showing" data-all="{escape(covers)}">{escape(covers)}</span> · '
        f"latest learner activity {escape(as_of or 'unknown')} UTC · "
        f"generated {generated_at:%Y-%m-%d %H:%M} UTC from the dbt marts{missing_note}</p>"
        "</header>"
        f'<nav class="toc" aria-label="Sections">{toc}{_filters(plan, teachers, site_file)}</nav>'
        f'<main><p class="filter-note" id="filter-note" hidden data-unknown="{escape(unknown)}">'
        f"</p>{''.join(_section_html(part) for part in parts)}</main>"
        "<footer>moodle-analytics · weeks start at each course's start date · learners are "
        "pseudonymous unless the warehouse was built with include_pii · hover a mark for its "
        "exact value</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
