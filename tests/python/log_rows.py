"""Holding back a site's newest log rows and putting them back: new rows for an
incremental run, on a copy of a demo Moodle DuckDB file."""

from __future__ import annotations

import duckdb


def hold_back_log_rows(source, held_back_file) -> int:
    """Remove the newest day of log rows, plus one in ten of the two days before
    (rows written late: their ids are older than rows already processed)."""
    with duckdb.connect(str(source)) as connection:
        newest = connection.execute(
            "select max(timecreated) from public.mdl_logstore_standard_log "
            "where timecreated < 2000000000"
        ).fetchone()[0]
        condition = (
            f"(timecreated > {newest - 86400} and timecreated < 2000000000)"
            f" or (timecreated > {newest - 3 * 86400} and id % 10 = 3)"
        )
        connection.execute(f"attach '{held_back_file}' as held_back")
        connection.execute(
            f"create table held_back.log_rows as "
            f"select * from public.mdl_logstore_standard_log where {condition}"
        )
        held = connection.execute("select count(*) from held_back.log_rows").fetchone()[0]
        connection.execute(f"delete from public.mdl_logstore_standard_log where {condition}")
    return held


def put_back_log_rows(source, held_back_file) -> None:
    with duckdb.connect(str(source)) as connection:
        connection.execute(f"attach '{held_back_file}' as held_back (read_only)")
        connection.execute(
            "insert into public.mdl_logstore_standard_log select * from held_back.log_rows"
        )
