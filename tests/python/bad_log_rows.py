"""The catalogue of bad log rows: each kind of row a Moodle log can hold that the
project cannot use as it is, with the reason it must end under, and how to write
them all into a small site's logstore_standard_log (DuckDB or PostgreSQL).

Every row is a copy of one of the site's own learner events (the template) with
the columns that make it bad replaced. userid and timecreated are turned into
text columns first, as a CSV import or a dump loaded as text leaves them, so the
rows can hold ids and times that are not numbers. docs/data-quality.md shows the
same catalogue as a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

LOG_TABLE = "public.mdl_logstore_standard_log"
# Columns the catalogue sets to null: Moodle declares them not null.
NULLABLE_FOR_THE_CATALOGUE = ("id", "userid", "timecreated", "eventname", "crud", "contextid")
# Columns held as text, so that they can hold what is not a number.
TEXT_COLUMNS = ("userid", "timecreated")
DAY = 86400


@dataclass(frozen=True)
class Site:
    """What the bad rows are made from: a learner event and ids the site lacks."""

    template: dict
    enrolled_at: int
    unknown_user_id: int
    unknown_course_id: int
    guest_user_id: int
    first_new_log_id: int


@dataclass(frozen=True)
class BadRow:
    kind: str
    reason: str
    changes: Callable[[Site], dict]
    disposition: str = "quarantined"


def completion(state: str) -> dict:
    return {"other": '{"relateduserid":5,"overrideby":null,"completionstate":' + state + "}"}


CATALOGUE: list[BadRow] = [
    BadRow("timecreated null", "invalid_time", lambda s: {"timecreated": None}),
    BadRow("timecreated negative", "invalid_time", lambda s: {"timecreated": -86400}),
    BadRow("timecreated 0 (1970)", "invalid_time", lambda s: {"timecreated": 0}),
    BadRow("timecreated before 2000", "invalid_time", lambda s: {"timecreated": 915148800}),
    BadRow("timecreated in 2100", "invalid_time", lambda s: {"timecreated": 4102444800}),
    BadRow(
        "timecreated 10000000000000 (overflow)",
        "invalid_time",
        lambda s: {"timecreated": 10**13},
    ),
    BadRow("timecreated not a number", "invalid_time", lambda s: {"timecreated": "yesterday"}),
    BadRow(
        "other: completionstate a word (JSON)", "unreadable_other", lambda s: completion('"done"')
    ),
    BadRow(
        "other: completionstate a word (PHP-serialised)",
        "unreadable_other",
        lambda s: {"other": 'a:2:{s:13:"relateduserid";i:5;s:15:"completionstate";s:4:"done";}'},
    ),
    BadRow("other: completionstate a fraction", "unreadable_other", lambda s: completion("1.5")),
    BadRow("other: completionstate out of range", "unreadable_other", lambda s: completion("7")),
    BadRow(
        "other: completionstate beyond 64 bits",
        "unreadable_other",
        lambda s: completion("99999999999999999999"),
    ),
    BadRow(
        "other: JSON cut off after the key",
        "unreadable_other",
        lambda s: {"other": '{"relateduserid":5,"completionstate":'},
    ),
    BadRow("id repeated, same row", "duplicate_id", lambda s: {"id": s.template["id"]}),
    BadRow(
        "id repeated, another row",
        "duplicate_id",
        lambda s: {"id": s.template["id"], "origin": "ws", "timecreated": s.enrolled_at},
    ),
    BadRow("id null", "invalid_id", lambda s: {"id": None}),
    BadRow("userid null", "invalid_id", lambda s: {"userid": None}),
    BadRow("userid negative", "invalid_id", lambda s: {"userid": -7}),
    BadRow("userid not a number", "invalid_id", lambda s: {"userid": "abc"}),
    BadRow("courseid negative", "invalid_id", lambda s: {"courseid": -3}),
    BadRow("eventname null", "invalid_event", lambda s: {"eventname": None}),
    BadRow("eventname empty", "invalid_event", lambda s: {"eventname": ""}),
    BadRow("crud not c, r, u or d", "invalid_code", lambda s: {"crud": "x"}),
    BadRow("crud null", "invalid_code", lambda s: {"crud": None}),
    BadRow("edulevel out of range", "invalid_code", lambda s: {"edulevel": 9}),
    BadRow("contextlevel out of range", "invalid_code", lambda s: {"contextlevel": 99}),
    BadRow("contextid null", "missing_context", lambda s: {"contextid": None}),
    BadRow(
        "module-level row, contextinstanceid 0",
        "missing_context",
        lambda s: {"contextlevel": 70, "contextinstanceid": 0},
    ),
    BadRow("userid names no user", "unknown_user", lambda s: {"userid": s.unknown_user_id}),
    BadRow(
        "courseid names no course", "unknown_course", lambda s: {"courseid": s.unknown_course_id}
    ),
    BadRow(
        "relateduserid names no user",
        "unknown_related_user",
        lambda s: {"relateduserid": s.unknown_user_id},
    ),
    BadRow(
        "learner event 40 days before the enrolment",
        "outside_enrolment",
        lambda s: {"timecreated": s.enrolled_at - 40 * DAY},
    ),
    # Rows Moodle writes on purpose: not bad, but not a learner's own event.
    BadRow("anonymous", "anonymous", lambda s: {"anonymous": 1}, "excluded"),
    BadRow("guest user", "not_a_learner", lambda s: {"userid": s.guest_user_id}, "excluded"),
    BadRow("not logged in (userid 0)", "not_logged_in", lambda s: {"userid": 0}, "excluded"),
    BadRow("courseid 0 (site level)", "site_level", lambda s: {"courseid": 0}, "excluded"),
    BadRow("courseid null", "site_level", lambda s: {"courseid": None}, "excluded"),
    BadRow("logged in as", "logged_in_as", lambda s: {"realuserid": 2}, "excluded"),
    BadRow(
        "event name the catalogue does not know",
        "learner_event",
        lambda s: {"eventname": "\\local_custom\\event\\thing_done", "component": "local_custom"},
        "used",
    ),
    BadRow("cli origin", "learner_event", lambda s: {"origin": "cli"}, "used"),
]


def fetch(connection, statement: str) -> list[dict]:
    cursor = connection.cursor()
    cursor.execute(statement)
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def execute(connection, statement: str) -> None:
    connection.cursor().execute(statement)


def read_site(connection) -> Site:
    """A learner's module-level view with the learner's enrolment start, and ids the site lacks."""
    template = fetch(
        connection,
        f"select log.*, user_enrolments.timestart as enrolled_at from {LOG_TABLE} as log "
        "inner join public.mdl_enrol as enrol on log.courseid = enrol.courseid "
        "inner join public.mdl_user_enrolments as user_enrolments "
        "on enrol.id = user_enrolments.enrolid and log.userid = user_enrolments.userid "
        "where log.edulevel = 2 and log.contextlevel = 70 and log.crud = 'r' and log.anonymous = 0 "
        "and log.realuserid is null and user_enrolments.timestart > 0 "
        "order by log.timecreated desc, log.id limit 1",
    )[0]
    enrolled_at = template.pop("enrolled_at")
    (ids,) = fetch(
        connection,
        "select (select max(id) from public.mdl_user) as users, "
        "(select max(id) from public.mdl_course) as courses, "
        "(select id from public.mdl_user where username = 'guest') as guest, "
        f"(select max(id) from {LOG_TABLE}) as log_rows",
    )
    return Site(
        template=template,
        enrolled_at=enrolled_at,
        unknown_user_id=ids["users"] + 1000,
        unknown_course_id=ids["courses"] + 1000,
        guest_user_id=ids["guest"],
        first_new_log_id=ids["log_rows"] + 1,
    )


def literal(value, as_text: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, str) or as_text:
        return "'" + str(value).replace("'", "''") + "'"
    return str(value)


def add_bad_rows(connection) -> tuple[int, dict[int | None, BadRow]]:
    """Write the catalogue into the log; returns the template's id (a learner event,
    repeated by the duplicate) and each bad row by its id (None for the null id)."""
    site = read_site(connection)
    for column in TEXT_COLUMNS:
        execute(
            connection,
            f"alter table {LOG_TABLE} alter column {column} type varchar(32) "
            f"using cast({column} as varchar(32))",
        )
    for column in NULLABLE_FOR_THE_CATALOGUE:
        execute(connection, f"alter table {LOG_TABLE} alter column {column} drop not null")
    written = {}
    for offset, bad_row in enumerate(CATALOGUE):
        row = {**site.template, "id": site.first_new_log_id + offset, **bad_row.changes(site)}
        columns = ", ".join(row)
        values = ", ".join(literal(value, name in TEXT_COLUMNS) for name, value in row.items())
        execute(connection, f"insert into {LOG_TABLE} ({columns}) values ({values})")
        written[row["id"]] = bad_row
    return site.template["id"], written
