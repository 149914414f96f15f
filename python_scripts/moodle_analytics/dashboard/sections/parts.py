"""What every section is made of: the Section, built by @section from a function
writing its body, figures (@figure, from a function drawing a chart), tables and
key-figure cards. Sections and figures take their titles from docstrings."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

import pandas as pd

from moodle_analytics.dashboard.sections.values import as_float, as_text
from moodle_analytics.dashboard.warehouse import Warehouse

RISK_COLOURS = {"high": "#c0392b", "medium": "#e69f00", "low": "#4a90c2"}
STATUS_NAMES = {
    "running": "running",
    "finished": "finished",
    "upcoming": "upcoming",
    "open_ended": "open-ended",
    "self_paced": "self-paced",
}
# Running courses first, then self-paced, upcoming and finished ones.
STATUS_ORDER = {"running": 0, "open_ended": 0, "self_paced": 1, "upcoming": 2, "finished": 3}
# A table column: (key in the frame, header, number format or None for text).
Column = tuple[str, str, Callable[[object], str] | None]


@dataclass
class Section:
    """One titled part of the page."""

    id: str
    title: str
    lead: str
    body: str = ""
    missing: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return not self.missing


class Unavailable(Exception):  # noqa: N818 (a state of the warehouse, not a failure)
    """Raised by a section's body when the warehouse lacks more than a table: a column."""

    def __init__(self, missing: list[str]):
        super().__init__(", ".join(missing))
        self.missing = missing


def _caption(function: Callable) -> tuple[str, str]:
    """A docstring's first line (a title) and the rest as one paragraph (what it shows)."""
    title, _, text = inspect.cleandoc(function.__doc__ or "").partition("\n")
    return title.strip(), " ".join(text.split())


def section(
    id: str, *, needs: Sequence[str]
) -> Callable[[Callable[[Warehouse], str]], Callable[[Warehouse], Section]]:
    """Turn a function writing a section's body (HTML) into one building the Section,
    titled by the function's docstring: its first line, then the lead paragraph.

    The body is written only when the warehouse holds every table in ``needs``;
    otherwise, or when the body raises Unavailable, the section names what is
    missing and says that `dbt build` makes it.
    """

    def decorate(body: Callable[[Warehouse], str]) -> Callable[[Warehouse], Section]:
        title, lead = _caption(body)

        @functools.wraps(body)
        def build(wh: Warehouse) -> Section:
            made = Section(id, title, lead)
            try:
                missing = wh.missing(*needs)
                if missing:
                    raise Unavailable(missing)
                made.body = body(wh)
            except Unavailable as error:
                made.missing = error.missing
                names = ", ".join(f"<code>{escape(name)}</code>" for name in error.missing)
                made.body = (
                    '<p class="missing">Not available: the warehouse has no '
                    f"{names}. Run <code>dbt build</code> (these models build on DuckDB) and "
                    "generate the page again.</p>"
                )
            return made

        return build

    return decorate


def figure(
    chart_id: str, *, wide: bool = False
) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Turn a function drawing a chart (SVG) into one returning it as a figure, with the
    function's docstring as caption: a title, then what it shows and in which unit.
    A function drawing nothing ("") gives no figure."""

    def decorate(draw: Callable[..., str]) -> Callable[..., str]:
        title, subtitle = _caption(draw)
        css = "figure wide" if wide else "figure"

        @functools.wraps(draw)
        def framed(*args, **kwargs) -> str:
            svg = draw(*args, **kwargs)
            if not svg:
                return ""
            return (
                f'<figure class="{css}" data-chart="{chart_id}"><figcaption>'
                f"<h3>{escape(title)}</h3><p>{escape(subtitle)}</p></figcaption>{svg}</figure>"
            )

        return framed

    return decorate


def empty(message: str) -> str:
    """The body of a section whose tables hold nothing to show yet."""
    return f'<p class="missing">{escape(message)}</p>'


def figures(*parts: str) -> str:
    """Figures side by side, as wide as the page allows."""
    return '<div class="figures">' + "".join(parts) + "</div>"


def cards(items: Sequence[tuple[str, str, str]]) -> str:
    """Key figures: (label, value, note) each."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="card-label">{escape(label)}</div>'
            f'<div class="card-value">{escape(value)}</div>'
            f'<div class="card-note">{escape(note)}</div></div>'
            for label, value, note in items
        )
        + "</div>"
    )


def _number_cell(
    key: str, label: str, value: object, fmt: Callable[[object], str], bars: dict
) -> str:
    number_value = as_float(value)
    shown = fmt(number_value) if not math.isnan(number_value) else "–"
    sort_key = "" if math.isnan(number_value) else f"{number_value:.6f}"
    bar = ""
    if key in bars and not math.isnan(number_value) and bars[key] > 0:
        width = max(0.0, min(1.0, number_value / bars[key])) * 100
        bar = f'<span class="bar" style="width:{width:.0f}%"></span>'
    return (
        f'<td class="num" data-label="{escape(label)}" data-sort="{sort_key}">'
        f'<span class="cell">{bar}'
        f'<span class="value">{escape(shown)}</span></span></td>'
    )


def _text_cell(label: str, value: object, link: object = None) -> str:
    cell = f'<td data-label="{escape(label)}">'
    if link:
        return f'{cell}<a href="{escape(as_text(link))}">{escape(as_text(value))}</a></td>'
    if isinstance(value, list | tuple):
        items = "".join(f"<li>{escape(as_text(item))}</li>" for item in value)
        return f'{cell}<ul class="reasons">{items}</ul></td>'
    return f"{cell}{escape(as_text(value))}</td>"


def table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    table_id: str,
    bars: dict[str, float] | None = None,
    links: dict[str, str] | None = None,
    caption: str = "",
) -> str:
    """An HTML table (sortable by clicking a header); `bars` draws a data bar under the
    number of the named columns, scaled to the given maximum; `links` makes the text of
    a column a link to the address in another column. A text column holding lists shows
    them as bullet points."""
    bars, links = bars or {}, links or {}
    head = "".join(
        f'<th scope="col" data-kind="{"text" if fmt is None else "number"}">{escape(label)}</th>'
        for _, label, fmt in columns
    )
    rows = [
        "<tr>"
        + "".join(
            _text_cell(label, record.get(key), record.get(links[key]) if key in links else None)
            if fmt is None
            else _number_cell(key, label, record.get(key), fmt, bars)
            for key, label, fmt in columns
        )
        + "</tr>"
        for record in frame.to_dict("records")
    ]
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table class="data sortable" data-table="{table_id}">'
        f"{caption_html}"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
