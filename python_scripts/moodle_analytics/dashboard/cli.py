"""moodle-dashboard: write the static dashboard pages from the marts.

Write one self-contained HTML page (no server, works offline) with charts of
learner progress, risk, courses and programmes, and beside it one page per
teacher, from the marts `dbt build` wrote: the DuckDB warehouse, or the
PostgreSQL database of the postgres and duckdb_pg targets.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from moodle_analytics import cli_options
from moodle_analytics.dashboard.build import DEFAULT_TITLE, build_dashboard
from moodle_analytics.dashboard.warehouse import (
    WarehouseError,
    add_target_options,
    target_from_args,
)

PROG = "moodle-dashboard"


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli_options.parser(PROG, __doc__.split("\n\n")[1].replace("\n", " "))
    add_target_options(parser)
    cli_options.add_source_duckdb(
        parser,
        "--source",
        "duckdb target: Moodle source DuckDB file, attached read-only for views that read "
        "it; optional",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("site/dashboard.html"),
        help="HTML file to write; each teacher's page goes beside it, teacher-<staff_id>.html",
    )
    parser.add_argument("--title", default=DEFAULT_TITLE, help="page title")
    args = parser.parse_args(argv)
    try:
        source = None
        if args.target == "duckdb" and args.source.exists():
            # Optional: attached when it is there, and then it must be a DuckDB file.
            source = cli_options.input_duckdb(args.source, "--source")
        target = target_from_args(args, source)
        cli_options.output_file(args.out, "--out")
        result = build_dashboard(target, args.out, title=args.title)
    except (WarehouseError, ValueError, OSError) as error:
        return cli_options.fail(PROG, error)
    for name in result.missing_tables:
        cli_options.warn(PROG, f"{name} is not in the warehouse; its section says so")
    print(f"Dashboard: {result.path.resolve()}")
    if result.teacher_pages:
        print(f"Teachers' pages: {len(result.teacher_pages)} beside it (teacher-*.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
