"""The dashboard page: one self-contained HTML file (inline CSS, SVG and script)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from moodle_analytics.dashboard.sections import Section

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
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
           gap: 18px; }
figure { margin: 0; }
figure.wide { grid-column: 1 / -1; }
figure figcaption h3 { margin: 0; font-size: 16px; }
figure figcaption p { margin: 2px 0 8px; color: var(--muted); font-size: 13.5px; }
.figures > figure, section.block > figure { border: 1px solid var(--line); border-radius: 8px;
                                            padding: 12px 14px; margin-bottom: 16px; }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
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
@media (max-width: 700px) { nav.toc { position: static; } main { padding: 12px; }
  header.top { padding: 16px; } section.block { padding: 14px; } }
@media print { nav.toc { display: none; } section.block { break-inside: avoid; } }
"""

# Sorting of the tables; everything else on the page is static.
SCRIPT = """
(function () {
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


def render_page(
    sections: Sequence[Section],
    *,
    title: str,
    as_of: str,
    generated_at: datetime | None = None,
) -> str:
    """The whole page."""
    generated_at = generated_at or datetime.now(UTC)
    toc = "".join(
        f'<a href="#{escape(section.id)}">{escape(section.title)}</a>' for section in sections
    )
    blocks = "".join(
        f'<section class="block" id="{escape(section.id)}" '
        f'data-available="{"true" if section.available else "false"}">'
        f"<h2>{escape(section.title)}</h2>"
        f'<p class="lead">{escape(section.lead)}</p>{section.body}</section>'
        for section in sections
    )
    missing = sorted({name for section in sections for name in section.missing})
    missing_note = f" · Not built yet: {escape(', '.join(missing))}" if missing else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<header class="top"><h1>{escape(title)}</h1>'
        f"<p>Latest learner activity {escape(as_of or 'unknown')} UTC · generated "
        f"{generated_at:%Y-%m-%d %H:%M} UTC from the dbt marts{missing_note}</p></header>"
        f'<nav class="toc" aria-label="Sections">{toc}</nav>'
        f"<main>{blocks}</main>"
        "<footer>moodle-analytics · weeks start at each course's start date · learners are "
        "pseudonymous unless the warehouse was built with include_pii · hover a mark for its "
        "exact value</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
