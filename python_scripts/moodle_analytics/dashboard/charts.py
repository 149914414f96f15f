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


def _legend(entries: Sequence[tuple[str, str, str]], x: float, y: float, width: float) -> list[str]:
    """Legend items (name, colour, kind 'line'|'dash'|'box') laid out left to right, wrapping."""
    parts, cursor_x, cursor_y = [], x, y
    for name, colour, kind in entries:
        item_width = 26 + 7.2 * len(name) + 18
        if cursor_x + item_width > x + width and cursor_x > x:
            cursor_x, cursor_y = x, cursor_y + 20
        if kind == "box":
            parts.append(
                f'<rect x="{cursor_x:.1f}" y="{cursor_y - 10:.1f}" width="14" height="12" '
                f'rx="2" fill="{colour}"/>'
            )
        else:
            dash = ' stroke-dasharray="5 4"' if kind == "dash" else ""
            parts.append(
                f'<line x1="{cursor_x:.1f}" y1="{cursor_y - 4:.1f}" x2="{cursor_x + 18:.1f}" '
                f'y2="{cursor_y - 4:.1f}" stroke="{colour}" stroke-width="3"{dash}/>'
            )
        parts.append(_text(cursor_x + 24, cursor_y, name, font_size=13, fill=INK))
        cursor_x += item_width
    return parts


def _legend_height(entries: Sequence[tuple[str, str, str]], width: float) -> float:
    rows, cursor = 1, 0.0
    for name, _, _ in entries:
        item_width = 26 + 7.2 * len(name) + 18
        if cursor + item_width > width and cursor > 0:
            rows, cursor = rows + 1, 0.0
        cursor += item_width
    return 20.0 * rows + 6


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
    left = 46 if compact else 64
    right = 12 if compact else 20
    top = 10 + (_legend_height(entries, width - left - right) if legend and entries else 0)
    bottom = 40 if compact else 52
    plot_w, plot_h = width - left - right, height - top - bottom

    xs = [x for s in series for x, _ in s.points] + [x for b in bands for x, _, _ in b.points]
    ys = [y for s in series for _, y in s.points if y is not None and math.isfinite(y)]
    ys += [v for b in bands for _, lo, hi in b.points for v in (lo, hi)]
    if reference:
        ys.append(reference[0])
    x_low, x_high = x_axis.domain or (min(xs, default=0), max(xs, default=1))
    if x_high == x_low:
        x_low, x_high = x_low - 0.5, x_high + 0.5
    y_low, y_high = y_axis.domain or (min([0.0, *ys]), max(ys, default=1.0))
    y_ticks = y_axis.ticks or nice_ticks(y_low, y_high, 4 if compact else 5)
    y_low, y_high = min(y_low, y_ticks[0]), max(y_high, y_ticks[-1])
    if y_high == y_low:
        y_high = y_low + 1

    def sx(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - y_low) / (y_high - y_low) * plot_h

    size = 11 if compact else 12.5
    body: list[str] = []
    for tick in y_ticks:
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(
            _text(
                left - 6,
                sy(tick) + 4,
                y_axis.format(tick),
                font_size=size,
                fill=MUTED,
                text_anchor="end",
            )
        )
    x_ticks = x_axis.ticks or nice_ticks(x_low, x_high, 4 if compact else 8)
    for tick in x_ticks:
        if x_low - 1e-9 <= tick <= x_high + 1e-9:
            label = x_axis.tick_labels.get(tick, x_axis.format(tick))
            body.append(
                f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{top + plot_h}" '
                f'y2="{top + plot_h + 5}" stroke="{AXIS}"/>'
            )
            body.append(
                _text(
                    sx(tick),
                    top + plot_h + 18,
                    label,
                    font_size=size,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
    body.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/>'
    )
    body.append(
        _text(
            left + plot_w / 2,
            height - 6,
            x_axis.label,
            font_size=size + 0.5,
            fill=INK,
            text_anchor="middle",
        )
    )
    body.append(
        _text(
            14,
            top + plot_h / 2,
            y_axis.label,
            font_size=size + 0.5,
            fill=INK,
            text_anchor="middle",
            transform=f"rotate(-90 14 {top + plot_h / 2:.1f})",
        )
    )
    for band in bands:
        upper = " ".join(f"{sx(x):.1f},{sy(hi):.1f}" for x, _, hi in band.points)
        lower = " ".join(f"{sx(x):.1f},{sy(lo):.1f}" for x, lo, _ in reversed(band.points))
        body.append(f'<polygon points="{upper} {lower}" fill="{band.colour}" opacity="0.55"/>')
    if reference:
        value, label = reference
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(value):.1f}" y2="{sy(value):.1f}" '
            f'stroke="{MUTED}" stroke-dasharray="2 3" stroke-width="1.5"/>'
        )
        body.append(
            _text(
                left + plot_w - 4,
                sy(value) - 5,
                label,
                font_size=size,
                fill=MUTED,
                text_anchor="end",
            )
        )
    for s in series:
        for segment in _segments(s.points):
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in segment)
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{s.colour}" '
                f'stroke-width="{s.width}" stroke-linejoin="round"{dash}/>'
            )
            if s.markers:
                for x, y in segment:
                    body.append(
                        f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{2.6 if compact else 3.2}" '
                        f'fill="{s.colour}"><title>{escape(s.name)}: '
                        f"{escape(x_axis.tick_labels.get(x, x_axis.format(x)))} → "
                        f"{escape(y_axis.format(y))}</title></circle>"
                    )
    if legend and entries:
        body.extend(_legend(entries, left, 18, plot_w))
    return _svg(width, height, body, f"{y_axis.label} by {x_axis.label}")


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None or not math.isfinite(y):
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((x, y))
    return [segment for segment in segments if segment]


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
    plot_w = width - label_width - right
    values = [v for _, v in items if v is not None and math.isfinite(v)]
    low, high = value_axis.domain or (0.0, max(values, default=1.0))
    ticks = value_axis.ticks or nice_ticks(low, high, 5)
    high = max(high, ticks[-1])

    def sx(value: float) -> float:
        return label_width + (value - low) / ((high - low) or 1) * plot_w

    body: list[str] = []
    plot_bottom = height - bottom
    for tick in ticks:
        body.append(
            f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{top}" y2="{plot_bottom:.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(
            _text(
                sx(tick),
                plot_bottom + 16,
                value_axis.format(tick),
                font_size=12.5,
                fill=MUTED,
                text_anchor="middle",
            )
        )
    body.append(
        _text(
            label_width + plot_w / 2,
            height - 8,
            value_axis.label,
            font_size=13,
            text_anchor="middle",
        )
    )
    for index, (label, value) in enumerate(items):
        colour = colours if isinstance(colours, str) else colours[index % len(colours)]
        y = top + index * bar_height * 1.35
        body.append(
            _text(
                label_width - 8,
                y + bar_height * 0.72,
                _shorten(label, label_width),
                font_size=13,
                text_anchor="end",
            )
        )
        if value is None or not math.isfinite(value):
            body.append(
                _text(label_width + 4, y + bar_height * 0.72, "no data", font_size=12, fill=MUTED)
            )
            continue
        bar_w = max(sx(value) - sx(low), 1)
        body.append(
            f'<rect x="{sx(low):.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_height}" '
            f'rx="2" fill="{colour}"><title>{escape(label)}: {escape(value_axis.format(value))}'
            "</title></rect>"
        )
        body.append(
            _text(
                sx(low) + bar_w + 5,
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
    entries = [(name, colour, "box") for name, colour in categories]
    legend_h = _legend_height(entries, width - label_width - 20)
    top, bottom, right = 10 + legend_h, 46, 60
    height = top + bottom + bar_height * len(rows) * 1.4
    plot_w = width - label_width - right
    totals = [sum(v for v in values if v) for _, values in rows]
    high = 1.0 if normalise else max(totals, default=1.0) or 1.0
    ticks = value_axis.ticks or nice_ticks(0, high, 5)
    high = max(high, ticks[-1])

    def sx(value: float) -> float:
        return label_width + value / high * plot_w

    plot_bottom = height - bottom
    body: list[str] = []
    for tick in ticks:
        body.append(
            f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{top - 4:.1f}" '
            f'y2="{plot_bottom:.1f}" stroke="{GRID}"/>'
        )
        body.append(
            _text(
                sx(tick),
                plot_bottom + 16,
                value_axis.format(tick),
                font_size=12.5,
                fill=MUTED,
                text_anchor="middle",
            )
        )
    body.append(
        _text(
            label_width + plot_w / 2,
            height - 8,
            value_axis.label,
            font_size=13,
            text_anchor="middle",
        )
    )
    for index, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        y = top + index * bar_height * 1.4
        body.append(
            _text(
                label_width - 8,
                y + bar_height * 0.72,
                _shorten(label, label_width),
                font_size=13,
                text_anchor="end",
            )
        )
        cursor = 0.0
        for (name, colour), value in zip(categories, values, strict=True):
            if not value:
                continue
            share = value / total if normalise and total else value
            x0, x1 = sx(cursor), sx(cursor + share)
            shown = f"{percent(share)} ({number(value)})" if normalise else number(value)
            body.append(
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
                f'height="{bar_height}" fill="{colour}"><title>{escape(label)} – '
                f"{escape(name)}: {escape(shown)}</title></rect>"
            )
            if normalise and x1 - x0 > 34:
                body.append(
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
        if show_totals:
            body.append(
                _text(
                    sx(cursor) + 5,
                    y + bar_height * 0.72,
                    f"n={number(total)}",
                    font_size=12,
                    fill=MUTED,
                )
            )
    body.extend(_legend(entries, label_width, 22, plot_w))
    return _svg(width, int(height), body, value_axis.label)


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
    entries = [(name, colour, "box") for name, colour in legend]
    left, right, bottom = 64, 20, 52
    top = 10 + (_legend_height(entries, width - left - right) if entries else 0)
    plot_w, plot_h = width - left - right, height - top - bottom
    y_ticks = nice_ticks(0, max(counts, default=1) or 1, 5)
    high = y_ticks[-1]

    def sx(value: float) -> float:
        return left + (value - edges[0]) / (edges[-1] - edges[0]) * plot_w

    def sy(value: float) -> float:
        return top + plot_h - value / high * plot_h

    body: list[str] = []
    for tick in y_ticks:
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(
            _text(
                left - 6,
                sy(tick) + 4,
                y_axis.format(tick),
                font_size=12.5,
                fill=MUTED,
                text_anchor="end",
            )
        )
    for index, count in enumerate(counts):
        x0, x1 = sx(edges[index]) + 1, sx(edges[index + 1]) - 1
        colour = colours[index] if colours else PALETTE[0]
        body.append(
            f'<rect x="{x0:.1f}" y="{sy(count):.1f}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{sy(0) - sy(count):.1f}" fill="{colour}"><title>'
            f"{escape(x_axis.format(edges[index]))}–{escape(x_axis.format(edges[index + 1]))}: "
            f"{number(count)}</title></rect>"
        )
    for tick in x_axis.ticks or nice_ticks(edges[0], edges[-1], 5):
        body.append(
            _text(
                sx(tick),
                top + plot_h + 18,
                x_axis.format(tick),
                font_size=12.5,
                fill=MUTED,
                text_anchor="middle",
            )
        )
    body.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/>'
    )
    body.append(
        _text(left + plot_w / 2, height - 6, x_axis.label, font_size=13, text_anchor="middle")
    )
    body.append(
        _text(
            14,
            top + plot_h / 2,
            y_axis.label,
            font_size=13,
            text_anchor="middle",
            transform=f"rotate(-90 14 {top + plot_h / 2:.1f})",
        )
    )
    body.extend(_legend(entries, left, 18, plot_w))
    return _svg(width, height, body, f"{y_axis.label} by {x_axis.label}")


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
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for x, _, _ in points]
    ys = [y for _, y, _ in points]
    x_ticks = x_axis.ticks or nice_ticks(
        *(x_axis.domain or (min(xs, default=0), max(xs, default=1)))
    )
    y_ticks = y_axis.ticks or nice_ticks(
        *(y_axis.domain or (min(ys, default=0), max(ys, default=1)))
    )

    def sx(x: float) -> float:
        return left + (x - x_ticks[0]) / ((x_ticks[-1] - x_ticks[0]) or 1) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - y_ticks[0]) / ((y_ticks[-1] - y_ticks[0]) or 1) * plot_h

    body: list[str] = []
    for tick in y_ticks:
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(
            _text(
                left - 6,
                sy(tick) + 4,
                y_axis.format(tick),
                font_size=12.5,
                fill=MUTED,
                text_anchor="end",
            )
        )
    for tick in x_ticks:
        body.append(
            f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="{GRID}"/>'
        )
        body.append(
            _text(
                sx(tick),
                top + plot_h + 18,
                x_axis.format(tick),
                font_size=12.5,
                fill=MUTED,
                text_anchor="middle",
            )
        )
    body.append(
        _text(left + plot_w / 2, height - 6, x_axis.label, font_size=13, text_anchor="middle")
    )
    body.append(
        _text(
            14,
            top + plot_h / 2,
            y_axis.label,
            font_size=13,
            text_anchor="middle",
            transform=f"rotate(-90 14 {top + plot_h / 2:.1f})",
        )
    )
    placed: list[tuple[float, float, float, float]] = []
    for x, y, label in sorted(points, key=lambda point: (point[1], point[0])):
        body.append(
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" fill="{PALETTE[0]}" '
            f'fill-opacity="0.75" stroke="#ffffff"><title>{escape(label)}: '
            f"{escape(x_axis.format(x))}, {escape(y_axis.format(y))}</title></circle>"
        )
        placed.append((sx(x) - 5, sy(y) - 5, sx(x) + 5, sy(y) + 5))
    if label_points:
        # Label a dot only where the label overlaps no other dot or label.
        for x, y, label in sorted(points, key=lambda point: -point[1]):
            text_w, text_h = 6.1 * len(label), 12
            for box_x in (sx(x) + 8, sx(x) - 8 - text_w):
                box = (box_x, sy(y) - text_h / 2 - 1, box_x + text_w, sy(y) + text_h / 2)
                inside = left <= box[0] and box[2] <= left + plot_w
                own = (sx(x) - 5, sy(y) - 5, sx(x) + 5, sy(y) + 5)
                if inside and not any(_overlap(box, other) for other in placed if other != own):
                    placed.append(box)
                    body.append(_text(box[0], sy(y) + 4, label, font_size=11, fill=MUTED))
                    break
    return _svg(width, height, body, f"{y_axis.label} against {x_axis.label}")


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
    body.append(_text(label_width, legend_y + 12, legend_label, font_size=12.5, fill=INK))
    start = label_width + 7.2 * len(legend_label) + 16
    for index in range(11):
        value = domain[0] + (domain[1] - domain[0]) * index / 10
        body.append(
            f'<rect x="{start + index * 26:.1f}" y="{legend_y:.1f}" width="26" height="14" '
            f'fill="{sequential(index / 10)}" stroke="{GRID}"/>'
        )
        if index % 5 == 0:
            body.append(
                _text(
                    start + index * 26 + 13,
                    legend_y + 30,
                    value_format(value),
                    font_size=11.5,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
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
