"""DuckDB files the commands read and write: what is a DuckDB database, and replacing one whole.

Every command that writes the Moodle source file (moodle-demo-data,
moodle-import-files, moodle-logs-import) writes a new file beside it and swaps
it in with one rename only when the whole load succeeded (replaced_atomically):
a failed, interrupted or refused load leaves the previous file as it was, and a
reader (a running `dbt build`) keeps the file it opened. A path that holds
something other than a DuckDB database is never replaced.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

# A DuckDB database file starts with an 8-byte checksum, then these 4 bytes.
MAGIC_OFFSET, MAGIC = 8, b"DUCK"
PARTIAL = ".partial-"


class DuckDBFileError(ValueError):
    """A path that cannot be read or replaced as a DuckDB database; the message names it."""


def is_duckdb_database(path: Path) -> bool:
    """True for a file that starts as DuckDB database files do."""
    with open(path, "rb") as handle:
        head = handle.read(MAGIC_OFFSET + len(MAGIC))
    return head[MAGIC_OFFSET:] == MAGIC


def check_database(path: str | Path) -> Path:
    """``path`` as a DuckDB database to open, else DuckDBFileError saying what it is."""
    path = Path(path)
    if not path.exists():
        raise DuckDBFileError(f"{path}: no such file")
    if path.is_dir():
        raise DuckDBFileError(f"{path} is a directory, not a DuckDB database")
    try:
        if path.stat().st_size == 0:
            raise DuckDBFileError(f"{path} is empty (0 bytes), not a DuckDB database")
        if not is_duckdb_database(path):
            raise DuckDBFileError(f"{path} is not a DuckDB database")
    except OSError as error:
        raise DuckDBFileError(f"cannot read {path}: {error.strerror}") from None
    return path


def check_replaceable(path: str | Path) -> Path:
    """``path`` as a DuckDB file to (re)create: absent, empty, or a DuckDB database."""
    path = Path(path)
    if path.is_dir():
        raise DuckDBFileError(f"{path} is a directory, expected a DuckDB file")
    if path.is_file() and path.stat().st_size > 0 and not is_duckdb_database(path):
        raise DuckDBFileError(f"{path} is not a DuckDB database; refusing to replace it")
    return path


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _settle(path: Path) -> None:
    """Fold a write-ahead log left beside ``path`` into it: DuckDB would replay a stale
    log onto whatever file bears the name, and a swapped-in file is not the log's."""
    if not _wal(path).exists():
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        raise DuckDBFileError(
            f"{path} has an unsettled write-ahead log ({_wal(path).name}) that cannot be "
            f"folded in ({first_line}); is another process writing it?"
        ) from None


def process_is_running(pid: int) -> bool:
    """True while process ``pid`` runs (a partial file's writer, a server's postmaster)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_abandoned_partials(target: Path) -> None:
    """Partial files of loads whose process died (killed mid-load) before removing them."""
    for partial in target.parent.glob(f".{target.name}{PARTIAL}*"):
        pid = partial.name.rpartition(PARTIAL)[2].removesuffix(".wal")
        if pid.isdigit() and not process_is_running(int(pid)):
            _remove(partial)


@contextlib.contextmanager
def replaced_atomically(target: str | Path) -> Iterator[Path]:
    """A path beside ``target`` to write a whole DuckDB database into; when the block
    ends without an error the new file replaces ``target`` in one rename, otherwise it
    is removed and ``target`` stays as it was."""
    target = Path(target)
    if target.is_symlink():
        # The file the link names is the one replaced (where its disk space is).
        target = target.resolve()
    check_replaceable(target)
    partial = target.with_name(f".{target.name}{PARTIAL}{os.getpid()}")
    try:
        # Found now rather than by DuckDB halfway: a directory that cannot be written.
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.touch()
        partial.unlink()
    except OSError as error:
        raise DuckDBFileError(f"cannot write {partial}: {error.strerror}") from None
    _remove_abandoned_partials(target)
    try:
        yield partial
        _settle(partial)
        _settle(target)
        os.replace(partial, target)
    finally:
        _remove(partial, _wal(partial))
