"""moodle-demo-data: generate a realistic Moodle database for the project.

Writes Moodle's own tables (mdl_ prefix, Moodle's column names and types) into
a DuckDB file, optionally also as Parquet or CSV files, and keeps the designed
truth about every learner-course in a separate file for evaluating risk scores.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from moodle_analytics import cli_options
from moodle_analytics.demo.config import ConfigError, DemoConfig, learners_for_target_rows

PROG = "moodle-demo-data"


def parse_as_of(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or time: {text!r} (e.g. 2026-10-22T12:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = cli_options.parser(PROG, __doc__.split("\n\n")[1].replace("\n", " "))
    add_output_options(parser.add_argument_group("where to write"))
    add_size_options(parser.add_argument_group("size and calendar"))
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on for large sites when writing to a terminal)",
    )
    return parser


def add_output_options(out) -> None:
    cli_options.add_source_duckdb(
        out, "--duckdb", "DuckDB file to (re)create with the Moodle tables"
    )
    cli_options.add_moodle_tables(out)
    out.add_argument(
        "--parquet-dir", type=Path, help="also write every table as <prefix><table>.parquet here"
    )
    out.add_argument(
        "--csv-dir", type=Path, help="also write every table as <prefix><table>.csv here"
    )
    out.add_argument(
        "--ground-truth",
        type=Path,
        default=Path("data/demo_ground_truth.csv"),
        help="CSV of each learner-course's designed trajectory, persona and outcome "
        "(final grade, pass or fail); docs/demo-data.md says what each column means",
    )


def add_size_options(size) -> None:
    defaults = DemoConfig()
    size.add_argument("--seed", type=positive_int, default=defaults.seed)
    size.add_argument(
        "--as-of",
        type=parse_as_of,
        default=defaults.as_of,
        help="moment the database is a snapshot of (UTC)",
    )
    size.add_argument(
        "--terms", type=positive_int, default=defaults.terms, help="terms, the last one running"
    )
    size.add_argument(
        "--weeks", type=positive_int, default=defaults.weeks_per_term, help="weeks per term"
    )
    size.add_argument(
        "--current-week",
        type=positive_int,
        default=defaults.current_week,
        help="course week of the running term at the as-of moment",
    )
    size.add_argument("--courses-per-term", type=positive_int, default=defaults.courses_per_term)
    size.add_argument(
        "--learners-per-course", type=positive_int, default=defaults.learners_per_course
    )
    size.add_argument(
        "--target-log-rows",
        type=positive_int,
        help="size the site for about this many log rows (overrides --learners-per-course)",
    )
    size.add_argument(
        "--anomalies",
        type=positive_int,
        default=defaults.anomalies_per_kind,
        help="bad log rows injected per kind (0 for a clean log)",
    )


def config_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> DemoConfig:
    """The site the arguments describe; a bad one stops with a one-line error."""
    learners = args.learners_per_course
    if args.target_log_rows:
        learners = learners_for_target_rows(
            args.target_log_rows, args.terms, args.courses_per_term, args.weeks
        )
    try:
        return DemoConfig(
            seed=args.seed,
            as_of=args.as_of,
            terms=args.terms,
            weeks_per_term=args.weeks,
            current_week=args.current_week,
            courses_per_term=args.courses_per_term,
            learners_per_course=learners,
            anomalies_per_kind=args.anomalies,
        )
    except ConfigError as error:
        parser.error(str(error))


def check_outputs(args: argparse.Namespace) -> None:
    """Every place the command writes can be written, before the site is generated."""
    cli_options.output_duckdb(args.duckdb, "--duckdb")
    cli_options.output_file(args.ground_truth, "--ground-truth")
    for option, directory in (("--parquet-dir", args.parquet_dir), ("--csv-dir", args.csv_dir)):
        if directory is not None:
            cli_options.output_directory(directory, option)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = config_from(args, parser)
    progress = args.progress
    if progress is None:
        size = config.learners_per_course * config.courses_per_term * config.terms
        progress = sys.stderr.isatty() and size > 20000
    try:
        check_outputs(args)
        from moodle_analytics.demo.generate import write_site

        result = write_site(
            config,
            args.duckdb,
            args.ground_truth,
            prefix=args.prefix,
            schema=args.schema,
            parquet_dir=args.parquet_dir,
            csv_dir=args.csv_dir,
            progress=progress,
        )
    except (ValueError, OSError, duckdb.Error) as error:
        return cli_options.fail_unchanged(PROG, error, args.duckdb)
    log_rows = result.row_counts["logstore_standard_log"]
    print(
        f"{PROG}: {log_rows:,} log rows, {len(result.ground_truth):,} learner-courses "
        f"in {result.seconds:.1f} s -> {args.duckdb}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
