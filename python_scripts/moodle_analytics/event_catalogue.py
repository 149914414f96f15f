"""The event catalogue seed (seeds/moodle_event_catalogue.csv) as Python objects.

The same file feeds dbt (as a seed), the demo generator (which writes log rows
exactly as Moodle would) and the Logs-report loader (which maps the report's
human-readable names back to Moodle's event classes). The seed holds every
event class of Moodle 5.1; event_catalogue_rules.py writes it from Moodle's
list of classes. Abstract classes, and the one class Moodle logs without a
crud or education level (\\core\\event\\unknown_logged), are in the seed
but never logged as such: load_event_catalogue leaves them out.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "seeds" / "moodle_event_catalogue.csv"


@dataclass(frozen=True)
class EventType:
    event_name: str
    component: str
    display_name: str
    component_display_name: str
    action: str
    target: str
    object_table: str | None
    crud: str
    edulevel: int
    context_level: int
    activity_type: str
    analytics_action: str
    is_learner_write: bool
    cognitive_depth: int | None
    social_breadth: int | None
    counts_as_activity: bool
    is_deprecated: bool = False


def _optional_int(text: str) -> int | None:
    return int(text) if text.strip() else None


@cache
def load_event_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, EventType]:
    """Event types keyed by Moodle's event class name."""
    events: dict[str, EventType] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("is_abstract") == "true" or not row["edulevel"]:
                continue
            events[row["event_name"]] = EventType(
                event_name=row["event_name"],
                component=row["component"],
                display_name=row["display_name"],
                component_display_name=row["component_display_name"],
                action=row["action"],
                target=row["target"],
                object_table=row["object_table"] or None,
                crud=row["crud"],
                edulevel=int(row["edulevel"]),
                context_level=int(row["context_level"]),
                activity_type=row["activity_type"],
                analytics_action=row["analytics_action"],
                is_learner_write=row["is_learner_write"] == "true",
                cognitive_depth=_optional_int(row["cognitive_depth"]),
                social_breadth=_optional_int(row["social_breadth"]),
                counts_as_activity=row["counts_as_activity"] == "true",
                is_deprecated=row.get("is_deprecated") == "true",
            )
    return events
