"""Values read out of the marts' frames: numbers and text that may be missing, course
names, the points of a chart."""

from __future__ import annotations

import math

import pandas as pd


def as_float(value: object) -> float:
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return result


def as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NaT:
        return ""
    return str(value)


def course_label(short_name: object, name: object) -> str:
    return as_text(short_name) or as_text(name)


def xy(frame: pd.DataFrame, x: str, y: str) -> list[tuple[float, float]]:
    """The (x, y) points of two columns, as a chart's Series takes them."""
    return list(zip(frame[x].astype(float), frame[y].astype(float), strict=True))
