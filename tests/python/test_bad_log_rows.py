"""No single log row or variable stops a build: the catalogue of bad log rows (bad_log_rows.py),
all written into one small site, built on DuckDB and on dbt-postgres. Each row ends
under its reason (quarantined, excluded or used), and the reconciliation accounts
for every raw row: raw = used + excluded + quarantined.

Only the models the reconciliation and the quarantine need are built, once per engine.
Variables pasted into SQL are read as values: an apostrophe is data, not SQL.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from bad_log_rows import CATALOGUE, BadRow, add_bad_rows, fetch
from dbt_project import Workspace, generate_demo
from moodle_analytics.postgres.load import load_moodle

pytest_plugins = ["postgres_fixtures"]

SMALL_SITE = (
    *("--terms", "1", "--courses-per-term", "2", "--learners-per-course", "5"),
    *("--weeks", "4", "--current-week", "3", "--anomalies", "0"),
)
SELECTION = (
    *("--select", "+rpt_log_reconciliation", "+fct_log_quarantine"),
    *("--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"),
)
CLASSIFIED = (
    "select log_event_id, disposition, reason from analytics_intermediate.int_log_events_classified"
)
QUARANTINE = "select log_event_id, reason, quarantined_rows from analytics_marts.fct_log_quarantine"
RECONCILIATION = (
    "select disposition, reason, log_rows, accounted_log_rows, raw_log_rows "
    "from analytics_marts.rpt_log_reconciliation"
)
DATABASE = "bad_rows"


@pytest.fixture(scope="module")
def clean_site(tmp_path_factory) -> Path:
    """A small demo site with no bad rows of its own."""
    return generate_demo(tmp_path_factory.mktemp("clean_site"), *SMALL_SITE).source


def log_rows(source: Path) -> int:
    with duckdb.connect(str(source), read_only=True) as connection:
        return connection.execute(
            "select count(*) from public.mdl_logstore_standard_log"
        ).fetchone()[0]


def check_every_row_ends_under_its_reason(
    written: dict[int | None, BadRow], template_id: int, raw_rows: int, results: dict[str, list]
) -> None:
    classified = {row[0]: row[1:] for row in results["classified"]}
    quarantine = {(row[0], row[1]): row[2] for row in results["quarantine"]}
    wrong = []
    for log_id, bad_row in written.items():
        if bad_row.reason == "duplicate_id" or log_id is None:
            # Extra copies and rows without an id are counted in the quarantine only.
            in_quarantine = (log_id, bad_row.reason) in quarantine
            found = ("quarantined", bad_row.reason) if in_quarantine else None
        else:
            found = classified.get(log_id)
            if found and found[0] == "quarantined" and (log_id, found[1]) not in quarantine:
                found = (*found, "missing from fct_log_quarantine")
        if found != (bad_row.disposition, bad_row.reason):
            wrong.append(f"{bad_row.kind}: expected {bad_row.reason}, got {found}")
    assert not wrong, "\n".join(wrong)
    assert classified[template_id] == ("used", "learner_event")
    # The clean site quarantines nothing: every quarantined row is one of the catalogue's.
    expected = Counter(row.reason for row in CATALOGUE if row.disposition == "quarantined")
    lines = results["reconciliation"]
    quarantined = {
        reason: rows for disposition, reason, rows, _, _ in lines if disposition == "quarantined"
    }
    assert quarantined == dict(expected)
    assert {(accounted, raw) for *_, accounted, raw in lines} == {(raw_rows, raw_rows)}
    assert sum(rows for _, _, rows, _, _ in lines) == raw_rows


def test_every_bad_row_ends_under_its_reason_on_duckdb(clean_site, tmp_path):
    workspace = Workspace(
        directory=tmp_path,
        source=tmp_path / "moodle_source.duckdb",
        warehouse=tmp_path / "moodle_analytics.duckdb",
        ground_truth=tmp_path / "unused.csv",
    )
    shutil.copyfile(clean_site, workspace.source)
    with duckdb.connect(str(workspace.source)) as connection:
        template_id, written = add_bad_rows(connection)
    workspace.dbt("build", *SELECTION)
    results = {
        "classified": workspace.query(CLASSIFIED),
        "quarantine": workspace.query(QUARANTINE),
        "reconciliation": workspace.query(RECONCILIATION),
    }
    check_every_row_ends_under_its_reason(written, template_id, log_rows(workspace.source), results)


@pytest.mark.postgres
def test_every_bad_row_ends_under_its_reason_on_postgres(clean_site, pg_server, tmp_path):
    load_moodle(pg_server.dsn(), clean_site, database=DATABASE, keys=False)
    connection = pg_server.connect(DATABASE)
    try:
        template_id, written = add_bad_rows(connection)
        connection.commit()
    finally:
        connection.close()
    workspace = Workspace(
        directory=tmp_path,
        source=clean_site,
        warehouse=tmp_path / "unused.duckdb",
        ground_truth=tmp_path / "unused.csv",
        extra_env={
            "MOODLE_PG_HOST": pg_server.host,
            "MOODLE_PG_PORT": str(pg_server.port),
            "MOODLE_PG_USER": pg_server.superuser,
            "MOODLE_PG_PASSWORD": pg_server.password,
            "MOODLE_PG_DBNAME": DATABASE,
        },
    )
    workspace.dbt("build", "--target", "postgres", *SELECTION)
    connection = pg_server.connect(DATABASE)
    try:
        results = {
            name: [tuple(row.values()) for row in fetch(connection, query)]
            for name, query in (
                ("classified", CLASSIFIED),
                ("quarantine", QUARANTINE),
                ("reconciliation", RECONCILIATION),
            )
        }
    finally:
        connection.close()
    raw_rows = log_rows(clean_site) + len(CATALOGUE)
    check_every_row_ends_under_its_reason(written, template_id, raw_rows, results)


def test_an_apostrophe_in_a_variable_is_data_not_sql(clean_site, tmp_path):
    secret = "o'hara'); select 1; -- and thirty-two characters more"
    workspace = Workspace(
        directory=tmp_path,
        source=clean_site,
        warehouse=tmp_path / "moodle_analytics.duckdb",
        ground_truth=tmp_path / "unused.csv",
    ).with_env(MOODLE_PSEUDONYM_SECRET=secret)
    separator = "o'hara'); select 1; --"
    shown = workspace.dbt(
        "show",
        "--inline",
        "select {{ pseudonymous_id('5') }} as learner_id, "
        "{{ sql_text(var('programme_offering_separator')) }} as separator, "
        "{{ timestamp_var('reminders_as_of') }} as reminded_at",
        "--vars",
        json.dumps(
            {"programme_offering_separator": separator, "reminders_as_of": "2026-10-01 12:00:00"}
        ),
        "--output",
        "json",
    )
    (row,) = json.loads(shown.stdout[shown.stdout.index("{") :])["show"]
    key = secret.encode().hex()
    assert row["learner_id"] == hashlib.sha256(f"{key}:5".encode()).hexdigest()
    assert row["separator"] == separator
    assert row["reminded_at"].startswith("2026-10-01")
    # A date with SQL after it is refused with the variable's name, before any SQL runs.
    refused = workspace.dbt(
        "parse",
        "--vars",
        json.dumps({"as_of": "2026-10-01' as timestamp) union select 1 --"}),
        check=False,
    )
    assert refused.returncode != 0
    assert "var as_of must be a date" in refused.stdout


def test_the_docs_show_the_catalogue_as_the_tests_feed_it():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "data-quality.md").read_text()
    for bad_row in CATALOGUE:
        line = f"| {bad_row.kind} | {bad_row.disposition} | `{bad_row.reason}` |"
        assert line in doc, bad_row.kind
