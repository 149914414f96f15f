"""What the import's steps share: the ids of the Moodle rows every import writes,
and two small pandas helpers."""

from __future__ import annotations

import pandas as pd

# Moodle's standard roles: id, shortname, archetype.
ROLES = [
    (1, "manager"), (2, "coursecreator"), (3, "editingteacher"), (4, "teacher"),
    (5, "student"), (6, "guest"), (7, "user"), (8, "frontpage"),
]  # fmt: skip
STUDENT_ROLE_ID, EDITING_TEACHER_ROLE_ID = 5, 3
SYSTEM_CONTEXT_ID = 1
IMPORT_CATEGORY_ID = 1
CATEGORY_CONTEXT_ID = 2
SITE_COURSE_ID = 1


def unique_map(pairs: pd.DataFrame, key: str, value: str) -> dict:
    """key -> value for keys that go with exactly one value."""
    pairs = pairs[[key, value]].dropna().drop_duplicates()
    counts = pairs[key].value_counts()
    single = pairs[pairs[key].isin(counts[counts == 1].index)]
    return dict(zip(single[key], single[value], strict=True))


def mode_map(pairs: pd.DataFrame, key: str, value: str) -> dict:
    """key -> its most frequent value."""
    pairs = pairs[[key, value]].dropna()
    if pairs.empty:
        return {}
    counts = pairs.groupby([key, value], sort=True).size().reset_index(name="n")
    counts = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates(key)
    return dict(zip(counts[key], counts[value], strict=True))
