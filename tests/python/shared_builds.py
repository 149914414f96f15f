"""What more than one test module builds the same way: built once per session.

`make test` runs the suite in three processes (pytest-xdist, whole modules to a
process). A site several modules need (the built demo, the small demo the
database engines load, its DuckDB build) is built once under a lock every
process waits for, and each module gets its own copy, so no two processes ever
open the same DuckDB file and no module sees another's changes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BUILT_MARK = ".built"


def session_root(tmp_path_factory) -> Path:
    """The session's temporary directory, shared by every test process."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold a lock on `path` that other test processes wait for."""
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A copy of what `build(directory)` writes, run once per session (again in the
    next process if it raised)."""
    shared = session_root(tmp_path_factory) / f"{name}_shared"
    with exclusive(shared.with_suffix(".lock")):
        if not (shared / BUILT_MARK).exists():
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir(parents=True)
            build(shared)
            (shared / BUILT_MARK).touch()
    own = tmp_path_factory.mktemp(name)
    shutil.copytree(shared, own, dirs_exist_ok=True)
    return own
