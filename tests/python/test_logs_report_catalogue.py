"""The event catalogue seed: every Moodle 5.1 class, its project columns derived by
the documented rules (event_catalogue_rules.py), and what the import and the
build make of events it does not know."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from moodle_analytics.event_catalogue import CATALOGUE_PATH, load_event_catalogue
from moodle_analytics.event_catalogue_rules import (
    HAND_CHOICES,
    INPUT_COLUMNS,
    SEED_COLUMNS,
    derive,
    main,
)
from moodle_analytics.logs_report.build import unknown_events_report
from moodle_analytics.moodle_sink import MoodleDuckDBWriter

PROJECT_COLUMNS = (
    "activity_type", "analytics_action", "is_learner_write", "cognitive_depth",
    "social_breadth", "counts_as_activity", "classified_by",
)  # fmt: skip


def seed_rows() -> list[dict[str, str]]:
    with CATALOGUE_PATH.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def as_event_list(row: dict[str, str]) -> dict[str, str]:
    """A seed row's Moodle facts in the shape of Moodle's list of event classes."""
    return {
        "eventname": row["event_name"], "component": row["component"],
        "target": row["target"], "action": row["action"], "is_abstract": row["is_abstract"],
        "parent": row["parent"], "crud": row["crud"], "edulevel": row["edulevel"],
        "objecttable": row["object_table"], "name_en": row["display_name"],
        "component_name_en": row["component_display_name"],
        "is_deprecated": row["is_deprecated"], "contextlevel": row["context_level"],
    }  # fmt: skip


def test_the_seed_holds_every_moodle_5_1_class_with_the_rules_columns():
    rows = seed_rows()
    assert len(rows) == 621 and sum(row["is_abstract"] == "true" for row in rows) == 19
    assert list(rows[0]) == list(SEED_COLUMNS)
    for row in rows:
        derived = {k: ("" if v is None else v) for k, v in derive(as_event_list(row)).items()}
        derived = {
            k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in derived.items()
        }
        assert {c: derived[c] for c in PROJECT_COLUMNS} == {c: row[c] for c in PROJECT_COLUMNS}
    by_hand = {row["event_name"] for row in rows if row["classified_by"] == "hand"}
    assert by_hand == set(HAND_CHOICES)
    # The catalogue the loaders read leaves out what Moodle never logs as such.
    assert len(load_event_catalogue()) == 621 - 19 - 1


def test_the_rules_read_the_events_real_downloads_carry():
    catalogue = load_event_catalogue()
    statement = catalogue["\\mod_assign\\event\\statement_accepted"]
    assert (statement.analytics_action, statement.counts_as_activity) == ("submit", True)
    graded = catalogue["\\mod_quiz\\event\\attempt_graded"]
    assert (graded.analytics_action, graded.is_learner_write, graded.counts_as_activity) == (
        "grade", False, False,
    )  # fmt: skip
    choice = catalogue["\\mod_choice\\event\\answer_created"]
    assert (choice.activity_type, choice.is_learner_write) == ("choice", True)
    assert catalogue["\\core\\event\\user_enrolment_updated"].analytics_action == "enrol"
    assert catalogue["\\core\\event\\course_backup_created"].counts_as_activity is False
    assert catalogue["\\core\\event\\group_member_added"].activity_type == "course"


def test_the_seed_is_written_again_from_a_list_of_classes(tmp_path: Path, capsys):
    rows = seed_rows()[:40]
    events = tmp_path / "events.csv"
    with events.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*INPUT_COLUMNS, "source_path"])
        writer.writeheader()
        writer.writerows({**as_event_list(row), "source_path": ""} for row in rows)
    out = tmp_path / "seed.csv"
    assert main([str(events), "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == rows
    bad = tmp_path / "bad.csv"
    bad.write_text("eventname,crud\n\\x\\event\\y,r\n")
    assert main([str(bad), "--out", str(out)]) == 2
    assert "lacks" in capsys.readouterr().err


def test_the_build_names_the_events_the_catalogue_does_not_know(tmp_path: Path):
    source = tmp_path / "source.duckdb"
    writer = MoodleDuckDBWriter(source)
    writer.connection.execute(
        "insert into public.mdl_logstore_standard_log (id, eventname, component, action, "
        "target, crud, edulevel, contextid, contextlevel, contextinstanceid, userid, "
        "timecreated) select i, case when i % 3 = 0 then '\\mod_attendance\\event\\taken' "
        "else '\\core\\event\\course_viewed' end, 'x', 'x', 'x', 'r', 2, 1, 10, 0, 2, 0 "
        "from range(1, 31) t(i)"
    )
    writer.close()
    lines = unknown_events_report(source)
    assert lines[0].startswith("events the catalogue does not know: 10 rows of 1 name(s)")
    assert lines[1] == "  unknown: \\mod_attendance\\event\\taken (10)"
    assert (
        duckdb.connect(str(source), read_only=True)
        .execute("select count(*) from public.mdl_logstore_standard_log")
        .fetchone()[0]
        == 30
    )
