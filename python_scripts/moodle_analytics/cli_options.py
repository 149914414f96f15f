"""Options that several command lines share, defined once as argparse helpers.

Each add_* function adds one kind of option with the project's flag, default and
help; a command line calls the ones it needs and keeps only what is its own.
Defaults follow profiles.yml: the Moodle source file is $MOODLE_SOURCE_DUCKDB (else
data/moodle_source.duckdb), the warehouse $MOODLE_ANALYTICS_DUCKDB (else
data/moodle_analytics.duckdb). Names that become SQL identifiers (schema, table
prefix) are checked as they are parsed, so a bad one is a one-line usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moodle_analytics.moodle_db.ddl import is_identifier

MOODLE_SCHEMA = "public"
MOODLE_PREFIX = "mdl_"


def warn(prog: str, message: str) -> None:
    """A note on stderr, in one line led by the command's name."""
    print(f"{prog}: {message}", file=sys.stderr)


def fail(prog: str, error: object) -> int:
    """An error on stderr in one line (never a traceback); the exit status to return."""
    warn(prog, f"error: {error}")
    return 2


def source_duckdb_default() -> Path:
    """The Moodle source file profiles.yml attaches."""
    return Path(os.environ.get("MOODLE_SOURCE_DUCKDB", "data/moodle_source.duckdb"))


def warehouse_default() -> Path:
    """The DuckDB file profiles.yml builds into."""
    return Path(os.environ.get("MOODLE_ANALYTICS_DUCKDB", "data/moodle_analytics.duckdb"))


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A command line's parser; its help shows each option's default."""
    return argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )


def identifier(text: str) -> str:
    """argparse type: a schema or table prefix (lowercase letters, digits and _)."""
    if not is_identifier(text):
        raise argparse.ArgumentTypeError(f"{text!r} must be lowercase letters, digits and _")
    return text


def time_zone(text: str) -> ZoneInfo:
    """argparse type: an IANA time zone such as Europe/Paris."""
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {text!r}") from None


def add_moodle_tables(parser: argparse.ArgumentParser, where: str = "of the Moodle tables") -> None:
    """--schema and --prefix: where the Moodle tables are (Moodle's mdl_ in public)."""
    parser.add_argument("--schema", type=identifier, default=MOODLE_SCHEMA, help=f"schema {where}")
    parser.add_argument(
        "--prefix", type=identifier, default=MOODLE_PREFIX, help=f"table prefix {where}"
    )


def add_moodle_source(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--duckdb FILE or --parquet-dir DIR: a copy of the Moodle tables to read
    (moodle_db.source); without ``required``, --duckdb defaults to the source file."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(
        "--duckdb",
        type=Path,
        default=None if required else source_duckdb_default(),
        help="DuckDB file holding the Moodle tables (moodle-demo-data, moodle-import-files)",
    )
    group.add_argument(
        "--parquet-dir", type=Path, help="directory of the Moodle tables as <prefix><table>.parquet"
    )


def add_source_duckdb(parser: argparse.ArgumentParser, flag: str, help_text: str) -> None:
    """A Moodle source DuckDB file under ``flag`` (default: $MOODLE_SOURCE_DUCKDB)."""
    parser.add_argument(
        flag,
        type=Path,
        default=source_duckdb_default(),
        help=f"{help_text} (env MOODLE_SOURCE_DUCKDB)",
    )


def add_warehouse(parser: argparse.ArgumentParser) -> None:
    """--warehouse: the DuckDB file `dbt build` wrote (default: $MOODLE_ANALYTICS_DUCKDB)."""
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=warehouse_default(),
        help="DuckDB warehouse dbt built (env MOODLE_ANALYTICS_DUCKDB)",
    )


def add_env_file(parser: argparse.ArgumentParser, default: Path | None, help_text: str) -> None:
    """--env-file: shell export lines holding a server's connection settings."""
    parser.add_argument("--env-file", type=Path, default=default, help=help_text)


def add_project_dir(parser: argparse.ArgumentParser, default: Path) -> None:
    """--project-dir: the dbt project to build."""
    parser.add_argument(
        "--project-dir", type=Path, default=default, help="the dbt project to build"
    )
