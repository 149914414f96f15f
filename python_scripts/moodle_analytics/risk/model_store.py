"""Fitted risk models kept between builds, found again by what they learned from.

Fitting is the risk models' whole cost, and most builds fit on exactly the
history an earlier build fitted on: a live site's new log rows change the
running courses, not the finished ones that models learn from. A fit is stored
under a fingerprint of everything that decides it (the training rows, the
settings, the versions of the libraries and of this package's code) and taken
from the store when the same fingerprint comes again; fits are deterministic,
so a stored fit equals a fresh one. The least recently used fits beyond
`max_entries` are deleted.

The files are pickles: point the store only at a directory this project writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import tempfile
import threading
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import pandas as pd

from moodle_analytics.risk.settings import RiskSettings

PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARIES = ("scikit-learn", "numpy", "pandas", "scipy")
# Settings that change how fast a fit runs, never what it learns.
SPEED_SETTINGS = frozenset({"fit_jobs"})

Fitted = TypeVar("Fitted")


@cache
def code_fingerprint() -> str:
    """This package's code and the libraries' versions: a change to either
    may change a fit, so it changes every fingerprint."""
    digest = hashlib.sha256()
    for library in LIBRARIES:
        digest.update(f"{library}=={metadata.version(library)};".encode())
    for source in sorted(PACKAGE_DIR.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def fingerprint(kind: str, rows: pd.DataFrame, settings: RiskSettings) -> str:
    """What a fit of this kind on these rows with these settings would learn from."""
    digest = hashlib.sha256(f"{kind};{code_fingerprint()};".encode())
    fitting_settings = {
        name: value
        for name, value in dataclasses.asdict(settings).items()
        if name not in SPEED_SETTINGS
    }
    digest.update(repr(sorted(fitting_settings.items())).encode())
    columns = sorted(rows.columns)
    digest.update(repr([(name, str(rows[name].dtype)) for name in columns]).encode())
    row_hashes = pd.util.hash_pandas_object(rows[columns], index=False)
    digest.update(row_hashes.to_numpy().tobytes())
    return digest.hexdigest()


@dataclasses.dataclass
class ModelStore:
    """A directory of fitted models by fingerprint; None keeps nothing."""

    directory: Path | None
    max_entries: int = 64
    reused: int = 0
    fitted: int = 0
    # Fits run side by side: counting, writing and pruning take turns.
    _lock: threading.Lock = dataclasses.field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    @classmethod
    def at(cls, directory: str | os.PathLike | None) -> ModelStore:
        """The store in `directory` (created when missing); empty or None: no store."""
        if directory is None or not str(directory).strip():
            return cls(None)
        return cls(Path(directory).expanduser())

    def get_or_fit(
        self, kind: str, rows: pd.DataFrame, settings: RiskSettings, fit: Callable[[], Fitted]
    ) -> tuple[Fitted, bool]:
        """The stored fit for these rows and settings, else fit() (stored for
        next time); and whether it came from the store."""
        if self.directory is None:
            result = fit()
            with self._lock:
                self.fitted += 1
            return result, False
        path = self.directory / f"{kind}-{fingerprint(kind, rows, settings)}.pickle"
        stored = self._read(path)
        if stored is not None:
            with self._lock:
                self.reused += 1
            return stored, True
        result = fit()
        with self._lock:
            self.fitted += 1
            self._write(path, result)
        return result, False

    def summary(self) -> str:
        where = self.directory if self.directory is not None else "no model store"
        return f"{self.fitted} fitted, {self.reused} reused from the model store ({where})"

    def _read(self, path: Path):
        try:
            with path.open("rb") as file:
                stored = pickle.load(file)
        except FileNotFoundError:
            return None
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            # Unreadable (cut short, or written by other code): fit again.
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            path.touch()  # recently used
        return stored

    def _write(self, path: Path, result) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a file.
        handle, partial = tempfile.mkstemp(dir=self.directory, suffix=".partial")
        with os.fdopen(handle, "wb") as file:
            pickle.dump(result, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
        self._prune()

    def _prune(self) -> None:
        entries = sorted(self.directory.glob("*.pickle"), key=_last_used, reverse=True)
        for stale in entries[self.max_entries :]:
            stale.unlink(missing_ok=True)


def _last_used(entry: Path) -> float:
    try:
        return entry.stat().st_mtime
    except FileNotFoundError:  # pruned meanwhile by another build
        return 0.0
