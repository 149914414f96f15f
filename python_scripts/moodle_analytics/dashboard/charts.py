"""Inline SVG charts: no library, no script, readable at a glance.

Every chart is a pure function from plain Python values to an SVG string with
its axes, tick labels, axis titles (units included) and legend; titles live in
the page around it. Hovering a mark shows its exact value (SVG <title>).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#52606d"
GRID = "#e4e7eb"
AXIS = "#9aa5b1"

# Colour-blind-safe qualitative palette (Okabe-Ito, reordered for contrast on white).
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#7f7f7f",
    "#f0e442",
)

Format = Callable[[float], str]


def number(value: float) -> str:
    """1234 -> '1,234'; 12.5 -> '12.5'; 0.123 -> '0.12'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def percent(value: float) -> str:
    """0.256 -> '26%'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.0f}%"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (about `count` of them)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw_step = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    ticks = [round(math.floor(low / step + 1e-9) * step, 10)]
    while ticks[-1] < high - step * 1e-9 and len(ticks) < 50:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _text(x: float, y: float, content: str, **attributes: str | float) -> str:
    extra = " ".join(f'{key.replace("_", "-")}="{value}"' for key, value in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{escape(content)}</text>'


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="{FONT}" fill="{INK}">'
        + "".join(body)
        + "</svg>"
    )


class _Legend:
    """Legend items (name, colour, kind 'line'|'dash'|'box') laid out left to right,
    wrapping onto new rows within ``width``."""

    def __init__(self, entries: Sequence[tuple[str, str, str]], width: float):
        self.entries = list(entries)
        self.width = width

    @staticmethod
    def _item_width(name: str) -> float:
        return 26 + 7.2 * len(name) + 18

    def _positions(self) -> list[tuple[float, int]]:
        """(x offset, row) of each entry."""
        positions, cursor, row = [], 0.0, 0
        for name, _, _ in self.entries:
            item_width = self._item_width(name)
            if cursor + item_width > self.width and cursor > 0:
                cursor, row = 0.0, row + 1
            positions.append((cursor, row))
            cursor += item_width
        return positions

    @property
    def height(self) -> float:
        """The room the legend takes above a plot, none without entries."""
        if not self.entries:
            return 0.0
        return 20.0 * (self._positions()[-1][1] + 1) + 6

    def draw(self, x: float, y: float) -> list[str]:
        parts = []
        for (name, colour, kind), (offset, row) in zip(
            self.entries, self._positions(), strict=True
        ):
            left, base = x + offset, y + 20 * row
            if kind == "box":
                parts.append(
                    f'<rect x="{left:.1f}" y="{base - 10:.1f}" width="14" height="12" '
                    f'rx="2" fill="{colour}"/>'
                )
            else:
                dash = ' stroke-dasharray="5 4"' if kind == "dash" else ""
                parts.append(
                    f'<line x1="{left:.1f}" y1="{base - 4:.1f}" x2="{left + 18:.1f}" '
                    f'y2="{base - 4:.1f}" stroke="{colour}" stroke-width="3"{dash}/>'
                )
            parts.append(_text(left + 24, base, name, font_size=13, fill=INK))
        return parts


@dataclass
class Series:
    """One line of a line chart: (x, y) points, y None for a gap."""

    name: str
    points: list[tuple[float, float | None]]
    colour: str | None = None
    dashed: bool = False
    width: float = 2.5
    markers: bool = True


@dataclass
class Band:
    """A shaded area between two lines of a line chart (e.g. a spread or a total)."""

    name: str
    points: list[tuple[float, float, float]]  # x, low, high
    colour: str = "#cbd2d9"


@dataclass
class Axis:
    label: str
    format: Format = number
    domain: tuple[float, float] | None = None
    ticks: list[float] | None = None
    tick_labels: dict[float, str] = field(default_factory=dict)

    def tick_label(self, value: float) -> str:
        return self.tick_labels.get(value, self.format(value))


@dataclass
class _Plot:
    """A chart's plot area (pixels) and its scales (data domains), with what every chart
    draws around its marks: grid lines, tick labels, the baseline, the axis titles."""

    left: float
    top: float
    width: float
    height: float
    x_domain: tuple[float, float]
    y_domain: tuple[float, float] = (0.0, 1.0)
    font_size: float = 12.5

    @classmethod
    def inside(
        cls,
        width: float,
        height: float,
        margins: tuple[float, float, float, float],
        x_domain: tuple[float, float],
        y_domain: tuple[float, float] = (0.0, 1.0),
        font_size: float = 12.5,
    ) -> _Plot:
        """The plot of a ``width`` x ``height`` chart within its margins (left, top,
        right, bottom: room for tick labels, titles and the legend)."""
        left, top, right, bottom = margins
        plot_size = (width - left - right, height - top - bottom)
        return cls(left, top, *plot_size, x_domain, y_domain, font_size)

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def right(self) -> float:
        return self.left + self.width

    def x(self, value: float) -> float:
        low, high = self.x_domain
        return self.left + (value - low) / ((high - low) or 1) * self.width

    def y(self, value: float) -> float:
        low, high = self.y_domain
        return self.bottom - (value - low) / ((high - low) or 1) * self.height

    def y_grid(self, ticks: Sequence[float], label: Format) -> list[str]:
        """A grid line across the plot at each y tick, labelled left of the plot."""
        parts = []
        for tick in ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{GRID}"/>'
            )
            parts.append(
                _text(
                    self.left - 6,
                    y + 4,
                    label(tick),
                    font_size=self.font_size,
                    fill=MUTED,
                    text_anchor="end",
                )
            )
        return parts

    def x_ticks(
        self, ticks: Sequence[float], label: Format, lines: str = "grid", grid_top: float = 0.0
    ) -> list[str]:
        """A label below the plot at each x tick, with a grid line up the plot (``grid``,
        from ``grid_top`` above it), a short tick mark (``mark``) or no line (``none``)."""
        parts = []
        for tick in ticks:
            x = self.x(tick)
            if lines == "grid":
                parts.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top - grid_top:.1f}" '
                    f'y2="{self.bottom:.1f}" stroke="{GRID}"/>'
                )
            elif lines == "mark":
                parts.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.bottom}" '
                    f'y2="{self.bottom + 5}" stroke="{AXIS}"/>'
                )
            parts.append(
                _text(
                    x,
                    self.bottom + 18,
                    label(tick),
                    font_size=self.font_size,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
        return parts

    def baseline(self) -> str:
        return (
            f'<line x1="{self.left}" x2="{self.right}" y1="{self.bottom}" y2="{self.bottom}" '
            f'stroke="{AXIS}"/>'
        )

    def titles(self, svg_height: float, x_label: str, y_label: str | None = None) -> list[str]:
        """The x axis title under the plot and the y axis title turned along its left edge."""
        size = self.font_size + 0.5
        parts = [
            _text(
                self.left + self.width / 2,
                svg_height - 6,
                x_label,
                font_size=size,
                text_anchor="middle",
            )
        ]
        if y_label is not None:
            middle = self.top + self.height / 2
            parts.append(
                _text(
                    14,
                    middle,
                    y_label,
                    font_size=size,
                    text_anchor="middle",
                    transform=f"rotate(-90 14 {middle:.1f})",
                )
            )
        return parts


def _value_range(axis: Axis, values: Sequence[float], low: float, high: float):
    """The axis's domain, else the values' range (``low`` and ``high`` when none)."""
    return axis.domain or (min(values, default=low), max(values, default=high))


def line_chart(
    series: Sequence[Series],
    x_axis: Axis,
    y_axis: Axis,
    *,
    bands: Sequence[Band] = (),
    reference: tuple[float, str] | None = None,
    width: int = 640,
    height: int = 320,
    legend: bool = True,
    compact: bool = False,
) -> str:
    """Lines over a shared x axis, with optional shaded bands and a labelled reference line."""
    palette = iter(PALETTE)
    series = [
        Series(s.name, s.points, s.colour or next(palette), s.dashed, s.width, s.markers)
        for s in series
    ]
    entries = [(s.name, s.colour, "dash" if s.dashed else "line") for s in series]
    entries += [(b.name, b.colour, "box") for b in bands]
    left, right = (46, 12) if compact else (64, 20)
    key = _Legend(entries if legend else [], width - left - right)
    top, bottom = 10 + key.height, 40 if compact else 52

    xs = [x for s in series for x, _ in s.points] + [x for b in bands for x, _, _ in b.points]
    ys = [y for s in series for _, y in s.points if y is not None and math.isfinite(y)]
    ys += [v for b in bands for _, lo, hi in b.points for v in (lo, hi)]
    if reference:
        ys.append(reference[0])
    x_low, x_high = _value_range(x_axis, xs, 0, 1)
    if x_high == x_low:
        x_low, x_high = x_low - 0.5, x_high + 0.5
    y_low, y_high = y_axis.domain or (min([0.0, *ys]), max(ys, default=1.0))
    y_ticks = y_axis.ticks or nice_ticks(y_low, y_high, 4 if compact else 5)
    y_low, y_high = min(y_low, y_ticks[0]), max(y_high, y_ticks[-1])
    plot = _Plot.inside(
        width,
        height,
        (left, top, right, bottom),
        (x_low, x_high),
        (y_low, y_high if y_high != y_low else y_low + 1),
        11 if compact else 12.5,
    )
    x_ticks = x_axis.ticks or nice_ticks(x_low, x_high, 4 if compact else 8)
    shown = [tick for tick in x_ticks if x_low - 1e-9 <= tick <= x_high + 1e-9]
    body = plot.y_grid(y_ticks, y_axis.format)
    body += plot.x_ticks(shown, x_axis.tick_label, lines="mark")
    body += [plot.baseline(), *plot.titles(height, x_axis.label, y_axis.label)]
    body += _bands_and_reference(plot, bands, reference)
    for s in series:
        body += _line(plot, s, x_axis, y_axis, 2.6 if compact else 3.2)
    body += key.draw(left, 18)
    return _svg(width, height, body, f"{y_axis.label} by {x_axis.label}")


def _bands_and_reference(
    plot: _Plot, bands: Sequence[Band], reference: tuple[float, str] | None
) -> list[str]:
    parts = []
    for band in bands:
        upper = " ".join(f"{plot.x(x):.1f},{plot.y(hi):.1f}" for x, _, hi in band.points)
        lower = " ".join(f"{plot.x(x):.1f},{plot.y(lo):.1f}" for x, lo, _ in reversed(band.points))
        parts.append(f'<polygon points="{upper} {lower}" fill="{band.colour}" opacity="0.55"/>')
    if reference:
        value, label = reference
        y = plot.y(value)
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{MUTED}" stroke-dasharray="2 3" stroke-width="1.5"/>'
        )
        parts.append(
            _text(
                plot.right - 4,
                y - 5,
                label,
                font_size=plot.font_size,
                fill=MUTED,
                text_anchor="end",
            )
        )
    return parts


def _line(plot: _Plot, s: Series, x_axis: Axis, y_axis: Axis, radius: float) -> list[str]:
    """One series: a polyline per unbroken run of points, a dot per point with its value."""
    parts = []
    for segment in _segments(s.points):
        path = " ".join(f"{plot.x(x):.1f},{plot.y(y):.1f}" for x, y in segment)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{s.colour}" '
            f'stroke-width="{s.width}" stroke-linejoin="round"{dash}/>'
        )
        if s.markers:
            parts += [
                f'<circle cx="{plot.x(x):.1f}" cy="{plot.y(y):.1f}" r="{radius}" '
                f'fill="{s.colour}"><title>{escape(s.name)}: '
                f"{escape(x_axis.tick_label(x))} → {escape(y_axis.format(y))}</title></circle>"
                for x, y in segment
            ]
    return parts


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None or not math.isfinite(y):
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((x, y))
    return [segment for segment in segments if segment]


def _bar_label(plot: _Plot, y: float, bar_height: float, label: str, label_width: float) -> str:
    """The name of a horizontal bar, right-aligned before the plot."""
    return _text(
        label_width - 8,
        y + bar_height * 0.72,
        _shorten(label, label_width),
        font_size=13,
        text_anchor="end",
    )


def bar_chart(
    items: Sequence[tuple[str, float]],
    value_axis: Axis,
    *,
    colours: Sequence[str] | str = PALETTE[0],
    width: int = 640,
    bar_height: int = 22,
    label_width: int = 200,
) -> str:
    """Horizontal bars, one per labelled value, the value printed at the bar's end."""
    top, bottom, right = 8, 46, 56
    height = top + bottom + bar_height * len(items) * 1.35
    values = [v for _, v in items if v is not None and math.isfinite(v)]
    low, high = value_axis.domain or (0.0, max(values, default=1.0))
    ticks = value_axis.ticks or nice_ticks(low, high, 5)
    margins = (label_width, top, right, bottom)
    plot = _Plot.inside(width, height, margins, (low, max(high, ticks[-1])))
    body = plot.x_ticks(ticks, value_axis.format) + plot.titles(height, value_axis.label)
    for index, (label, value) in enumerate(items):
        colour = colours if isinstance(colours, str) else colours[index % len(colours)]
        y = top + index * bar_height * 1.35
        body.append(_bar_label(plot, y, bar_height, label, label_width))
        if value is None or not math.isfinite(value):
            body.append(
                _text(label_width + 4, y + bar_height * 0.72, "no data", font_size=12, fill=MUTED)
            )
            continue
        bar_w = max(plot.x(value) - plot.x(low), 1)
        body.append(
            f'<rect x="{plot.x(low):.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_height}" '
            f'rx="2" fill="{colour}"><title>{escape(label)}: {escape(value_axis.format(value))}'
            "</title></rect>"
        )
        body.append(
            _text(
                plot.x(low) + bar_w + 5,
                y + bar_height * 0.72,
                value_axis.format(value),
                font_size=12.5,
                fill=INK,
            )
        )
    return _svg(width, int(height), body, value_axis.label)


def _shorten(label: str, pixels: float, size: float = 13) -> str:
    limit = max(4, int(pixels / (size * 0.55)))
    return label if len(label) <= limit else label[: limit - 1] + "…"


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    categories: Sequence[tuple[str, str]],
    value_axis: Axis,
    *,
    normalise: bool = True,
    width: int = 640,
    bar_height: int = 20,
    label_width: int = 200,
    show_totals: bool = True,
) -> str:
    """Horizontal bars split into categories (name, colour); as shares of each row when
    normalise, the count of the row printed at its end."""
    key = _Legend([(name, colour, "box") for name, colour in categories], width - label_width - 20)
    top, bottom, right = 10 + key.height, 46, 60
    height = top + bottom + bar_height * len(rows) * 1.4
    totals = [sum(v for v in values if v) for _, values in rows]
    high = 1.0 if normalise else max(totals, default=1.0) or 1.0
    ticks = value_axis.ticks or nice_ticks(0, high, 5)
    margins = (label_width, top, right, bottom)
    plot = _Plot.inside(width, height, margins, (0.0, max(high, ticks[-1])))
    body = plot.x_ticks(ticks, value_axis.format, grid_top=4) + plot.titles(
        height, value_axis.label
    )
    for index, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        y = top + index * bar_height * 1.4
        body.append(_bar_label(plot, y, bar_height, label, label_width))
        parts, cursor = _stack(
            plot, y, bar_height, label, zip(categories, values, strict=True), total, normalise
        )
        body += parts
        if show_totals:
            body.append(
                _text(
                    plot.x(cursor) + 5,
                    y + bar_height * 0.72,
                    f"n={number(total)}",
                    font_size=12,
                    fill=MUTED,
                )
            )
    return _svg(width, int(height), body + key.draw(label_width, 22), value_axis.label)


def _stack(plot, y, bar_height, label, parts_of, total, normalise) -> tuple[list[str], float]:
    """One stacked bar: a part per category with a value; returns the svg and its end."""
    parts, cursor = [], 0.0
    for (name, colour), value in parts_of:
        if not value:
            continue
        share = value / total if normalise and total else value
        x0, x1 = plot.x(cursor), plot.x(cursor + share)
        shown = f"{percent(share)} ({number(value)})" if normalise else number(value)
        parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{bar_height}" fill="{colour}"><title>{escape(label)} – '
            f"{escape(name)}: {escape(shown)}</title></rect>"
        )
        if normalise and x1 - x0 > 34:
            parts.append(
                _text(
                    (x0 + x1) / 2,
                    y + bar_height * 0.72,
                    percent(share),
                    font_size=11.5,
                    fill=_on(colour),
                    text_anchor="middle",
                )
            )
        cursor += share
    return parts, cursor


def _on(colour: str) -> str:
    """Black or white text, whichever reads better on the colour."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return INK if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"


def histogram(
    counts: Sequence[int],
    edges: Sequence[float],
    x_axis: Axis,
    y_axis: Axis,
    *,
    colours: Sequence[str] | None = None,
    legend: Sequence[tuple[str, str]] = (),
    width: int = 640,
    height: int = 300,
) -> str:
    """Bars of counts over consecutive intervals [edges[i], edges[i+1])."""
    left, right, bottom = 64, 20, 52
    key = _Legend([(name, colour, "box") for name, colour in legend], width - left - right)
    top = 10 + key.height
    y_ticks = nice_ticks(0, max(counts, default=1) or 1, 5)
    plot = _Plot.inside(
        width, height, (left, top, right, bottom), (edges[0], edges[-1]), (0.0, y_ticks[-1])
    )
    body = plot.y_grid(y_ticks, y_axis.format)
    for index, count in enumerate(counts):
        x0, x1 = plot.x(edges[index]) + 1, plot.x(edges[index + 1]) - 1
        colour = colours[index] if colours else PALETTE[0]
        body.append(
            f'<rect x="{x0:.1f}" y="{plot.y(count):.1f}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{plot.y(0) - plot.y(count):.1f}" fill="{colour}"><title>'
            f"{escape(x_axis.format(edges[index]))}–{escape(x_axis.format(edges[index + 1]))}: "
            f"{number(count)}</title></rect>"
        )
    x_ticks = x_axis.ticks or nice_ticks(edges[0], edges[-1], 5)
    body += plot.x_ticks(x_ticks, x_axis.format, lines="none")
    body += [plot.baseline(), *plot.titles(height, x_axis.label, y_axis.label)]
    return _svg(width, height, body + key.draw(left, 18), f"{y_axis.label} by {x_axis.label}")


def scatter(
    points: Sequence[tuple[float, float, str]],
    x_axis: Axis,
    y_axis: Axis,
    *,
    width: int = 640,
    height: int = 340,
    label_points: bool = True,
) -> str:
    """Labelled dots (x, y, label)."""
    left, right, top, bottom = 64, 24, 14, 52
    x_ticks = x_axis.ticks or nice_ticks(*_value_range(x_axis, [x for x, _, _ in points], 0, 1))
    y_ticks = y_axis.ticks or nice_ticks(*_value_range(y_axis, [y for _, y, _ in points], 0, 1))
    plot = _Plot.inside(
        width,
        height,
        (left, top, right, bottom),
        (x_ticks[0], x_ticks[-1]),
        (y_ticks[0], y_ticks[-1]),
    )
    body = plot.y_grid(y_ticks, y_axis.format) + plot.x_ticks(x_ticks, x_axis.format)
    body += plot.titles(height, x_axis.label, y_axis.label)
    placed: list[tuple[float, float, float, float]] = []
    for x, y, label in sorted(points, key=lambda point: (point[1], point[0])):
        body.append(
            f'<circle cx="{plot.x(x):.1f}" cy="{plot.y(y):.1f}" r="5" fill="{PALETTE[0]}" '
            f'fill-opacity="0.75" stroke="#ffffff"><title>{escape(label)}: '
            f"{escape(x_axis.format(x))}, {escape(y_axis.format(y))}</title></circle>"
        )
        placed.append((plot.x(x) - 5, plot.y(y) - 5, plot.x(x) + 5, plot.y(y) + 5))
    if label_points:
        body += _point_labels(plot, points, placed)
    return _svg(width, height, body, f"{y_axis.label} against {x_axis.label}")


def _point_labels(
    plot: _Plot,
    points: Sequence[tuple[float, float, str]],
    placed: list[tuple[float, float, float, float]],
) -> list[str]:
    """Label a dot, right or left of it, only where the label overlaps no other dot or
    label; ``placed`` holds the dots' boxes and takes the labels'."""
    parts = []
    for x, y, label in sorted(points, key=lambda point: -point[1]):
        text_w, text_h = 6.1 * len(label), 12
        own = (plot.x(x) - 5, plot.y(y) - 5, plot.x(x) + 5, plot.y(y) + 5)
        for box_x in (plot.x(x) + 8, plot.x(x) - 8 - text_w):
            box = (box_x, plot.y(y) - text_h / 2 - 1, box_x + text_w, plot.y(y) + text_h / 2)
            inside = plot.left <= box[0] and box[2] <= plot.right
            if inside and not any(_overlap(box, other) for other in placed if other != own):
                placed.append(box)
                parts.append(_text(box[0], plot.y(y) + 4, label, font_size=11, fill=MUTED))
                break
    return parts


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    value_format: Format = percent,
    legend_label: str = "",
    width: int = 1100,
    row_height: int = 20,
    label_width: int = 230,
    column_title: str = "",
    domain: tuple[float, float] | None = None,
) -> str:
    """A grid coloured from light (domain low) to dark (domain high, by default the largest
    value); empty cells for missing values."""
    finite = [v for row in values for v in row if v is not None and math.isfinite(v)]
    domain = domain or (min(finite, default=0.0), max(finite, default=1.0))
    top, bottom = 44, 64
    plot_w = width - label_width - 20
    cell_w = plot_w / max(len(column_labels), 1)
    height = top + bottom + row_height * len(row_labels)
    body: list[str] = []
    step = max(1, math.ceil(len(column_labels) / (plot_w / 28)))
    for index, label in enumerate(column_labels):
        if index % step == 0:
            body.append(
                _text(
                    label_width + (index + 0.5) * cell_w,
                    top - 8,
                    label,
                    font_size=11.5,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
    for row, label in enumerate(row_labels):
        y = top + row * row_height
        body.append(
            _text(
                label_width - 8,
                y + row_height * 0.7,
                _shorten(label, label_width, 12.5),
                font_size=12.5,
                text_anchor="end",
            )
        )
        for column, value in enumerate(values[row]):
            if value is None or not math.isfinite(value):
                continue
            colour = sequential((value - domain[0]) / ((domain[1] - domain[0]) or 1))
            body.append(
                f'<rect x="{label_width + column * cell_w:.1f}" y="{y:.1f}" '
                f'width="{cell_w - 1:.1f}" height="{row_height - 1}" fill="{colour}">'
                f"<title>{escape(label)}, {escape(column_title)} {escape(column_labels[column])}: "
                f"{escape(value_format(value))}</title></rect>"
            )
    legend_y = top + row_height * len(row_labels) + 18
    body += _colour_scale(label_width, legend_y, legend_label, domain, value_format)
    body.append(
        _text(
            label_width + plot_w / 2,
            top - 28,
            column_title,
            font_size=12.5,
            fill=INK,
            text_anchor="middle",
        )
    )
    return _svg(width, int(height + 10), body, legend_label)


def _colour_scale(
    x: float, y: float, label: str, domain: tuple[float, float], value_format: Format
) -> list[str]:
    """The heat map's legend: its label, then eleven steps from domain low to high."""
    parts = [_text(x, y + 12, label, font_size=12.5, fill=INK)]
    start = x + 7.2 * len(label) + 16
    for index in range(11):
        value = domain[0] + (domain[1] - domain[0]) * index / 10
        parts.append(
            f'<rect x="{start + index * 26:.1f}" y="{y:.1f}" width="26" height="14" '
            f'fill="{sequential(index / 10)}" stroke="{GRID}"/>'
        )
        if index % 5 == 0:
            parts.append(
                _text(
                    start + index * 26 + 13,
                    y + 30,
                    value_format(value),
                    font_size=11.5,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
    return parts


# Sequential yellow-green-blue: light for low values, dark blue for high ones.
_SEQUENTIAL = ((255, 255, 217), (199, 233, 180), (65, 182, 196), (34, 94, 168), (8, 29, 88))


def sequential(share: float) -> str:
    """Colour of a value in 0..1 on a light-to-dark scale that reads in grey too."""
    share = min(max(share, 0.0), 1.0) * (len(_SEQUENTIAL) - 1)
    index = min(int(share), len(_SEQUENTIAL) - 2)
    low, high = _SEQUENTIAL[index], _SEQUENTIAL[index + 1]
    part = share - index
    red, green, blue = (round(a + (b - a) * part) for a, b in zip(low, high, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"
