"""The lists messages are written for, and how each row becomes template fields.

Each list is a table of the warehouse's actions schema. Rows are grouped per
learner (learner_id): one message per learner, one item per row, so a learner
with three activities due soon gets one reminder listing the three.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moodle_analytics.dashboard.warehouse import Target, Warehouse, WarehouseError

CONTACT_COLUMNS = ("learner_id", "first_name", "full_name", "email")


class ListError(ValueError):
    """A list that cannot be read or used; the message says why and what to do."""


@dataclass(frozen=True)
class Formatting:
    """How links and dates appear in messages."""

    site_url: str = ""
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def in_zone(self, name: str | None) -> Formatting:
        """The same formatting in a recipient's time zone (an IANA name, as Moodle keeps
        user.timezone); this one when the name is empty or not a time zone."""
        if not name:
            return self
        try:
            return dataclasses.replace(self, timezone=ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            return self

    def link(self, path: str) -> str:
        return self.site_url.rstrip("/") + path if self.site_url else path

    def moment(self, value: datetime | None) -> str:
        """'Wednesday 4 November 2026, 00:00 UTC' in the chosen time zone."""
        if value is None:
            return ""
        local = value.replace(tzinfo=UTC).astimezone(self.timezone)
        return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"

    def day(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.replace(tzinfo=UTC).astimezone(self.timezone)
        return f"{local:%A} {local.day} {local:%B %Y}"


def percent(share: float | None) -> str:
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return ""
    return str(math.floor(100 * share + 0.5))


def due_in(days_left: int, hours_left: int) -> str:
    if days_left >= 2:
        return f"in {days_left} days"
    if days_left == 1:
        return "in 1 day"
    if hours_left >= 1:
        return f"within {hours_left + 1} hours"
    return "within the hour"


def reminder_item(row: dict, formatting: Formatting) -> dict:
    return {
        "activity_name": row["activity_name"],
        "activity_type": row["activity_type"],
        "course_name": row["course_name"] or "",
        "course_short_name": row["course_short_name"] or "",
        "due_date": formatting.moment(row["due_at"]),
        "due_in": due_in(row["days_left"], row["hours_left"]),
        "days_left": str(row["days_left"]),
        "hours_left": str(row["hours_left"]),
        "opens_date": formatting.moment(row["opens_at"]),
        "activity_link": formatting.link(row["activity_url_path"]),
    }


def upgrade_item(row: dict, formatting: Formatting) -> dict:
    price = " ".join(part for part in (row["paid_track_cost"], row["paid_track_currency"]) if part)
    return {
        "course_name": row["course_name"] or "",
        "course_short_name": row["course_short_name"] or "",
        "course_title": row["course_title"] or "",
        "grade_percent": percent(row["grade_share"]),
        "pass_percent": percent(row["pass_grade_share"]),
        "programme_names": row["programme_names"],
        "certificate_names": row["certificate_names"] or "programme certificate",
        "paid_track_method_name": row["paid_track_method_name"] or "Verified track",
        "price": price or "see the course page",
        "enrol_link": formatting.link(f"/enrol/index.php?id={row['course_id']}"),
    }


def next_course_item(row: dict, formatting: Formatting) -> dict:
    offering = row["next_offering_course_id"]
    if row["next_offering_starts_at"] is not None:
        when = "starting " + formatting.day(row["next_offering_starts_at"])
    elif offering is not None:
        when = "open now, at your own pace"
    else:
        when = "in its next run"
    return {
        "programme_name": row["programme_name"],
        "courses_passed": str(row["courses_passed"]),
        "programme_courses": str(row["programme_courses"]),
        "next_course_code": row["next_course_code"],
        "next_course_title": row["next_course_title"],
        "next_offering_course_name": row["next_offering_course_name"] or row["next_course_title"],
        "next_offering_date": when,
        "enrol_link": formatting.link(f"/enrol/index.php?id={offering}")
        if offering is not None
        else formatting.site_url,
        "retake_note": " (a second try)" if row["is_retake"] else "",
    }


@dataclass(frozen=True)
class ListSpec:
    name: str
    table: str
    columns: tuple[str, ...]
    order_by: str
    item: Callable[[dict, Formatting], dict]


LISTS = {
    "reminders": ListSpec(
        "reminders",
        "fct_deadline_reminders",
        (
            "activity_name",
            "activity_type",
            "activity_url_path",
            "course_name",
            "course_short_name",
            "days_left",
            "hours_left",
            "due_at",
            "opens_at",
        ),
        "due_at, course_short_name, activity_name",
        reminder_item,
    ),
    "upgrade": ListSpec(
        "upgrade",
        "rpt_outreach_upgrade_track",
        (
            "course_id",
            "course_name",
            "course_short_name",
            "course_title",
            "grade_share",
            "pass_grade_share",
            "programme_names",
            "certificate_names",
            "paid_track_method_name",
            "paid_track_cost",
            "paid_track_currency",
        ),
        "course_name",
        upgrade_item,
    ),
    "next-course": ListSpec(
        "next-course",
        "rpt_outreach_next_course",
        (
            "programme_name",
            "courses_passed",
            "programme_courses",
            "next_course_code",
            "next_course_title",
            "next_offering_course_id",
            "next_offering_course_name",
            "next_offering_starts_at",
            "is_retake",
        ),
        "programme_name",
        next_course_item,
    ),
}


@dataclass
class Recipient:
    """One learner and the rows of the list about them."""

    learner_id: str
    first_name: str | None
    full_name: str | None
    email: str | None
    rows: list[dict]
    # Moodle's user.lang and user.timezone (the site's default where the user keeps it).
    language: str | None = None
    timezone: str | None = None


def read_rows(target: Target, schema: str, spec: ListSpec) -> list[dict]:
    """The list's rows from the marts of a dbt target (dashboard.warehouse), ordered by
    learner, then by the list's own order. The order is applied here, not in SQL, so that
    it does not depend on the engine's collation."""
    try:
        with Warehouse.open(target, schemas=(schema,)) as wh:
            if not wh.has(spec.table):
                raise ListError(
                    f"{schema}.{spec.table} is not in {wh.where}: build it with "
                    f"`{target.build_command()} -s {spec.table}` (or pass --schema)"
                )
            missing = sorted(set(CONTACT_COLUMNS + spec.columns) - set(wh.columns(spec.table)))
            if missing:
                raise ListError(f"{schema}.{spec.table} lacks {', '.join(missing)}: rebuild it")
            rows = wh.records("select * from {t}", t=spec.table)
    except WarehouseError as error:
        raise ListError(str(error)) from None
    keys = ("learner_id", *(column.strip() for column in spec.order_by.split(",")))
    return sorted(rows, key=lambda row: tuple(_sort_key(row[key]) for key in keys))


def _sort_key(value: object) -> tuple[bool, object]:
    """Nulls last, as PostgreSQL and DuckDB put them in ascending order."""
    return (value is None, value if value is not None else 0)


def group_by_learner(rows: Iterable[dict]) -> list[Recipient]:
    recipients: dict[str, Recipient] = {}
    for row in rows:
        learner = row["learner_id"]
        if learner not in recipients:
            recipients[learner] = Recipient(
                learner,
                row["first_name"],
                row["full_name"],
                row["email"],
                [],
                language=row.get("preferred_language"),
                timezone=row.get("timezone"),
            )
        recipients[learner].rows.append(row)
    return list(recipients.values())
