"""The floor: one DuckDB query that reads the log once and groups it by
learner, course and week, written to a fresh DuckDB file.

No transformation of the log can cost less than reading it and grouping it
once, so the full build's time divided by this one says what the project's
modelling costs on top. Run as a module, in its own process, so that its time
and memory are measured like the build's:

    python -m moodle_analytics.bench.floor --source S --warehouse W
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

FLOOR_SQL = """
create table floor_learner_weeks as
select
    log_rows.userid as user_id,
    log_rows.courseid as course_id,
    cast(
        floor((log_rows.timecreated - courses.startdate) / 604800.0) as integer
    ) + 1 as course_week_number,
    count(*) as events,
    sum(case when log_rows.crud = 'r' then 1 else 0 end) as read_events,
    count(distinct log_rows.timecreated // 86400) as active_days,
    count(distinct log_rows.contextinstanceid) as distinct_contexts,
    min(log_rows.timecreated) as first_event_epoch,
    max(log_rows.timecreated) as last_event_epoch
from moodle.public.mdl_logstore_standard_log as log_rows
inner join moodle.public.mdl_course as courses
    on log_rows.courseid = courses.id
where log_rows.userid > 0 and courses.format <> 'site'
group by 1, 2, 3
"""


def run_floor(source: Path, warehouse: Path, memory_limit: str | None = None) -> int:
    """Run the floor query; the number of learner-course-weeks it wrote."""
    warehouse.unlink(missing_ok=True)
    with duckdb.connect(str(warehouse)) as connection:
        if memory_limit:
            connection.execute(f"set memory_limit = '{memory_limit}'")
        connection.execute(f"attach '{source}' as moodle (read_only)")
        connection.execute(FLOOR_SQL)
        return connection.execute("select count(*) from floor_learner_weeks").fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moodle_analytics.bench.floor")
    parser.add_argument("--source", type=Path, required=True, help="Moodle source DuckDB file")
    parser.add_argument("--warehouse", type=Path, required=True, help="DuckDB file to write")
    args = parser.parse_args(argv)
    rows = run_floor(
        args.source,
        args.warehouse,
        os.environ.get("DUCKDB_MEMORY_LIMIT"),
    )
    print(f"floor: {rows:,} learner-course-weeks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
