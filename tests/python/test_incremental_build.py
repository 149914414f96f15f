"""An incremental run after new log rows, and after Moodle edited the past
(enrolments, users, course dates, role assignments, grades, due dates), gives
exactly the marts and risk scores of a full build."""

from __future__ import annotations

import shutil
import time

import duckdb
import pytest

from dbt_project import QUICK_RISK_VARS, Workspace, generate_demo
from log_rows import hold_back_log_rows, put_back_log_rows
from mart_compare import comparable, differences
from moodle_edits import apply_edits, choose_edits, edit_changed, witness

# Run bookkeeping differs between runs by design; everything else must match
# (floating-point numbers within mart_compare's tolerance).
RUN_COLUMNS = {"loaded_at", "source_loaded_at", "changed_at", "fit_seconds"}
COMPARED_SCHEMAS = ("analytics_marts", "analytics_intermediate", "analytics_ml")
# What the incremental runs remember between runs: an incremental table keeps
# the contexts gone from Moodle, a full build has never seen them.
RUN_TABLES = {"int_event_contexts_fingerprinted"}
# A first build: seeds and models in one dbt command (one parse, one start).
SEEDS_AND_MODELS = ("build", "--resource-type", "seed", "--resource-type", "model")


def differing_rows(left: Workspace, right: Workspace) -> dict[str, list[str]]:
    """Per table, the first values that differ between two warehouses."""
    differences_by_table = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{left.warehouse}' as left_db (read_only)")
        connection.execute(f"attach '{right.warehouse}' as right_db (read_only)")
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_catalog = 'left_db' and table_schema in {COMPARED_SCHEMAS} "
            "and table_type = 'BASE TABLE'"
        ).fetchall()
        assert len(tables) >= 10

        def rows(database: str, schema: str, table: str) -> tuple[list[str], list[tuple]]:
            cursor = connection.execute(f"select * from {database}.{schema}.{table}")
            columns = [column[0] for column in cursor.description]
            return comparable(columns, cursor.fetchall(), RUN_COLUMNS)

        for schema, table in tables:
            if table in RUN_TABLES:
                continue
            found = differences(*rows("left_db", schema, table), *rows("right_db", schema, table))
            if found:
                differences_by_table[f"{schema}.{table}"] = found
    return differences_by_table


def copy_of(workspace: Workspace, directory, with_warehouse: bool = False) -> Workspace:
    """A workspace in `directory` with a copy of the Moodle source (and of the
    warehouse, when asked), so a test can change them freely."""
    directory.mkdir()
    copy = Workspace(
        directory=directory,
        source=directory / "moodle_source.duckdb",
        warehouse=directory / "moodle_analytics.duckdb",
        ground_truth=workspace.ground_truth,
    )
    shutil.copy(workspace.source, copy.source)
    if with_warehouse:
        shutil.copy(workspace.warehouse, copy.warehouse)
    return copy


@pytest.mark.slow
def test_incremental_run_after_new_rows_and_edits_equals_a_full_build(tmp_path):
    """Between two runs the site gets new log rows and one edit of the past of
    each kind (moodle_edits); each edit changes the full build, and the
    incremental run equals it row for row."""
    complete = generate_demo(tmp_path / "complete", "--learners-per-course", "30")
    incremental = copy_of(complete, tmp_path / "incremental")
    held = hold_back_log_rows(incremental.source, tmp_path / "held_back.duckdb")
    # Enough new rows to touch many learner-weeks (761 on this seeded site).
    assert held > 500

    incremental.dbt(*SEEDS_AND_MODELS, *QUICK_RISK_VARS)
    before = incremental.query(
        "select count(*) from analytics_intermediate.int_log_events_classified"
    )[0][0]
    edits = choose_edits(complete.source)
    assert len({edit.kind for edit in edits}) == 11
    unedited = [witness(incremental, edit) for edit in edits]
    for site in (incremental, complete):
        apply_edits(site.source, edits)
    put_back_log_rows(incremental.source, tmp_path / "held_back.duckdb")
    started = time.perf_counter()
    incremental.dbt("run", *QUICK_RISK_VARS)
    print(f"incremental run after new rows and edits: {time.perf_counter() - started:.0f} s")
    after = incremental.query(
        "select count(*) from analytics_intermediate.int_log_events_classified"
    )[0][0]
    assert after - before == held

    complete.dbt(*SEEDS_AND_MODELS, *QUICK_RISK_VARS)
    unchanged = [
        edit.kind
        for edit, before_edit in zip(edits, unedited, strict=True)
        if not edit_changed(before_edit, witness(complete, edit))
    ]
    assert unchanged == []
    assert differing_rows(incremental, complete) == {}


def test_a_table_built_by_an_older_version_gets_a_clear_message(built_demo, tmp_path):
    """A stored incremental table without the watermark column (as an earlier
    version of the project built int_learner_sessions) stops the run with the
    model and the command that rebuilds it; that command then works."""
    older = copy_of(built_demo, tmp_path / "older", with_warehouse=True)
    with duckdb.connect(str(older.warehouse)) as connection:
        connection.execute(
            "alter table analytics_intermediate.int_learner_sessions drop column source_loaded_at"
        )

    refused = older.dbt("run", "--select", "int_learner_sessions", check=False)
    assert refused.returncode != 0
    assert 'int_learner_sessions" has no column source_loaded_at' in refused.stdout
    assert "dbt build --full-refresh --select int_learner_sessions" in refused.stdout

    older.dbt("run", "--select", "int_learner_sessions", "--full-refresh")
    assert older.query(
        "select count(*) from analytics_intermediate.int_learner_sessions "
        "where source_loaded_at is null"
    ) == [(0,)]


def test_events_the_catalogue_does_not_know_are_named_and_still_used(built_demo, tmp_path):
    """New log rows of a learner with event names the catalogue lacks: the next
    run names them, with their counts, in its log, and uses the rows, described
    from their own crud and education level."""
    site = copy_of(built_demo, tmp_path / "unknown_events", with_warehouse=True)
    # A learner's own event, copied under names no catalogue holds, at its time.
    (used_id,) = site.query(
        "select max(log_event_id) from analytics_intermediate.int_log_events_classified "
        "where disposition = 'used'"
    )[0]
    with duckdb.connect(str(site.source)) as connection:
        next_id = connection.execute(
            "select max(id) + 1 from public.mdl_logstore_standard_log"
        ).fetchone()[0]
        unknown = [("\\local_quest\\event\\badge_viewed", "r")] * 2
        unknown.append(("\\local_quest\\event\\answer_saved", "c"))
        for offset, (name, crud) in enumerate(unknown):
            connection.execute(
                "insert into public.mdl_logstore_standard_log "
                "select * replace (? as id, ? as eventname, ? as crud, 2 as edulevel) "
                "from public.mdl_logstore_standard_log where id = ?",
                [next_id + offset, name, crud, used_id],
            )
    result = site.dbt("build", "--select", "int_log_events_classified", "rpt_log_unknown_events")
    log = result.stdout
    assert "2 logged events are not in seeds/moodle_event_catalogue.csv" in log
    assert "\\local_quest\\event\\badge_viewed: 2 log rows, 2 used" in log
    assert "\\local_quest\\event\\answer_saved: 1 log rows, 1 used" in log
    described = site.query(
        "select is_read_event, is_learner_write, counts_as_activity, is_known_event "
        "from analytics_intermediate.int_log_events_classified "
        f"where log_event_id >= {next_id} order by log_event_id"
    )
    assert described == [
        (True, False, True, False),
        (True, False, True, False),
        (False, True, True, False),
    ]
