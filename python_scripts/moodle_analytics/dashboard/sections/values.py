"""Values read out of the marts' frames: numbers and text that may be missing, course
and teacher names, teachers' page names, the points of a chart."""

from __future__ import annotations

import math
import re

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


def counted(count: int, singular: str, plural: str) -> str:
    """'1 activity', '3 activities' (with thousands separators)."""
    return f"{count:,} {singular if count == 1 else plural}"


def course_label(short_name: object, name: object) -> str:
    return as_text(short_name) or as_text(name)


def staff_ids(teacher_staff_ids: object) -> list[str]:
    """The staff_ids in dim_courses.teacher_staff_ids (dbt.listagg with ", " in the model)."""
    return [staff_id.strip() for staff_id in as_text(teacher_staff_ids).split(", ") if staff_id]


def teacher_label(staff_id: str, name: object = None) -> str:
    """A teacher's name, or without one (pseudonymous marts) the start of their staff_id."""
    return as_text(name) or f"Teacher {staff_id[:8]}"


def teacher_page_name(staff_id: str) -> str:
    """A teacher's page, written beside the site page (staff_id is a hexadecimal hash;
    anything else is kept out of the file name)."""
    return "teacher-" + re.sub(r"[^0-9A-Za-z_-]", "_", staff_id) + ".html"


def xy(frame: pd.DataFrame, x: str, y: str) -> list[tuple[float, float]]:
    """The (x, y) points of two columns, as a chart's Series takes them."""
    return list(zip(frame[x].astype(float), frame[y].astype(float), strict=True))
