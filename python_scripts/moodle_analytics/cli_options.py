"""What command lines share: their parser, their options, their errors, their path checks.

Each add_* function adds one kind of option with the project's flag, default and
help; a command line calls the ones it needs and keeps only what is its own.
Defaults follow profiles.yml: the Moodle source file is $MOODLE_SOURCE_DUCKDB (else
data/moodle_source.duckdb), the warehouse $MOODLE_ANALYTICS_DUCKDB (else
data/moodle_analytics.duckdb). Names that become SQL identifiers (schema, table
prefix) are checked as they are parsed, so a bad one is a one-line usage error.

Bad input ends a command with one line on stderr, `<command>: error: <what>`,
naming the file or option, and exit status 2 (fail): never a traceback. The
input_* and output_* checks run before any work, so a missing, empty or
wrong kind of file, or a place that cannot be written, is found at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from moodle_analytics.moodle_db.ddl import is_identifier
from moodle_analytics.moodle_db.duckdb_files import (
    DuckDBFileError,
    check_database,
    check_replaceable,
)

MOODLE_SCHEMA = "public"
MOODLE_PREFIX = "mdl_"


class InputError(ValueError):
    """A path or input a command cannot use; the message names it and says why."""


def warn(prog: str, message: str) -> None:
    """A note on stderr, in one line led by the command's name."""
    print(f"{prog}: {message}", file=sys.stderr)


def one_line(error: object) -> str:
    """An error as one line: an OS error as `<file>: <reason>`, others by their first
    line (DuckDB follows its message with the SQL it was running)."""
    if isinstance(error, OSError) and error.strerror:
        names = [str(name) for name in (error.filename, error.filename2) if name is not None]
        return ": ".join([*names, error.strerror]) if names else error.strerror
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def fail(prog: str, error: object) -> int:
    """An error on stderr in one line (never a traceback); the exit status to return."""
    warn(prog, f"error: {one_line(error)}")
    return 2


def fail_unchanged(prog: str, error: object, target: Path) -> int:
    """fail() for a command that writes ``target`` whole: say that it was left as it was."""
    kept = "left as it was" if Path(target).exists() else "not written"
    return fail(prog, f"{one_line(error)} ({target} {kept})")


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments give one line on stderr (not the whole usage) and status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def source_duckdb_default() -> Path:
    """The Moodle source file profiles.yml attaches."""
    return Path(os.environ.get("MOODLE_SOURCE_DUCKDB", "data/moodle_source.duckdb"))


def warehouse_default() -> Path:
    """The DuckDB file profiles.yml builds into."""
    return Path(os.environ.get("MOODLE_ANALYTICS_DUCKDB", "data/moodle_analytics.duckdb"))


def parser(
    prog: str,
    description: str,
    epilog: str | None = None,
    formatter_class: type[argparse.HelpFormatter] = argparse.ArgumentDefaultsHelpFormatter,
) -> argparse.ArgumentParser:
    """A command line's parser (its errors one line); its help shows each option's default
    unless another ``formatter_class`` is given."""
    return OneLineParser(
        prog=prog, description=description, epilog=epilog, formatter_class=formatter_class
    )


# -- path checks, before any work -------------------------------------------------------


def input_file(path: Path, option: str) -> Path:
    """An existing, non-empty file given as ``option``, else InputError."""
    if not path.exists():
        raise InputError(f"{option} {path}: no such file")
    if not path.is_file():
        raise InputError(f"{option} {path} is not a file")
    if path.stat().st_size == 0:
        raise InputError(f"{option} {path} is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise InputError(f"{option} {path} cannot be read (permission denied)")
    return path


def input_directory(path: Path, option: str) -> Path:
    """An existing directory given as ``option``, else InputError."""
    if not path.exists():
        raise InputError(f"{option} {path}: no such directory")
    if not path.is_dir():
        raise InputError(f"{option} {path} is not a directory")
    return path


def input_duckdb(path: Path, option: str, if_missing: str = "") -> Path:
    """A DuckDB database given as ``option`` (not a text file, not 0 bytes), else InputError;
    ``if_missing`` says how to make a missing one."""
    if if_missing and not path.exists():
        raise InputError(f"{option} {path}: no such file; {if_missing}")
    try:
        return check_database(path)
    except DuckDBFileError as error:
        raise InputError(f"{option} {error}") from None


def _writable_directory(directory: Path, option: str, path: Path) -> None:
    """Make ``directory`` (and its parents) and check that a file can be created in it."""
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{option} {path}: {existing} is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{option} {path}: cannot create {directory} ({error.strerror})") from None
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise InputError(
            f"{option} {path}: cannot write in {directory} ({error.strerror})"
        ) from None


def output_file(path: Path, option: str) -> Path:
    """A file the command may (re)write, given as ``option``; its directory is made."""
    if path.is_dir():
        raise InputError(f"{option} {path} is a directory, expected a file")
    _writable_directory(path.parent, option, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option} {path} cannot be written (permission denied)")
    return path


def output_directory(path: Path, option: str) -> Path:
    """A directory the command writes files into, given as ``option``; made if missing."""
    _writable_directory(path, option, path)
    return path


def output_duckdb(path: Path, option: str) -> Path:
    """A DuckDB file the command (re)creates whole (moodle_db.duckdb_files): absent, empty
    or a DuckDB database, in a directory that can be written."""
    try:
        check_replaceable(path)
    except DuckDBFileError as error:
        raise InputError(f"{option} {error}") from None
    return output_file(path, option)


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


def dbt_vars(text: str) -> dict:
    """argparse type: dbt variables as dbt's --vars takes them, a YAML mapping."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"not YAML: {one_line(error)}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a mapping, e.g. '{{key: 1}}': {text!r}")
    return value


def add_moodle_tables(parser: argparse.ArgumentParser, where: str = "of the Moodle tables") -> None:
    """--schema and --prefix: where the Moodle tables are (Moodle's mdl_ in public)."""
    parser.add_argument("--schema", type=identifier, default=MOODLE_SCHEMA, help=f"schema {where}")
    parser.add_argument(
        "--prefix", type=identifier, default=MOODLE_PREFIX, help=f"table prefix {where}"
    )


def input_moodle_source(args: argparse.Namespace) -> Path:
    """The copy of the Moodle tables add_moodle_source's options name, checked (--duckdb
    has a default unless required, so --parquet-dir wins when given)."""
    if args.parquet_dir is not None:
        return input_directory(args.parquet_dir, "--parquet-dir")
    return input_duckdb(args.duckdb, "--duckdb")


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


def input_warehouse(path: Path) -> Path:
    """--warehouse as a DuckDB database that a build wrote."""
    return input_duckdb(path, "--warehouse", "run `dbt build` first (or pass --warehouse)")


def add_env_file(parser: argparse.ArgumentParser, default: Path | None, help_text: str) -> None:
    """--env-file: shell export lines holding a server's connection settings."""
    parser.add_argument("--env-file", type=Path, default=default, help=help_text)


def add_project_dir(parser: argparse.ArgumentParser, default: Path) -> None:
    """--project-dir: the dbt project to build."""
    parser.add_argument(
        "--project-dir", type=Path, default=default, help="the dbt project to build"
    )
