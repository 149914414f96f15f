"""Wall time and peak memory of a command and every process it starts.

Memory is sampled from /proc (Linux): the proportional set size (PSS, from
smaps_rollup) of every process in the tree, summed, so pages shared between
processes (PostgreSQL's shared buffers) count once; RSS where PSS cannot be
read. The peak is the largest sum seen, never below the largest single
process's own high-water mark (ru_maxrss), which a short spike between two
samples cannot escape.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


@dataclass
class Measured:
    """What one measured command did."""

    seconds: float
    peak_bytes: int
    returncode: int
    samples: int
    # CPU time (user + system) of the command and the children it waited for:
    # steadier than wall time on a machine that other work keeps busy.
    cpu_seconds: float = 0.0

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / 1e9


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process visible in /proc."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def process_tree(roots: Iterable[int]) -> list[int]:
    """The given processes and all their descendants that are still alive."""
    children = _children_map()
    seen: list[int] = []
    pending = list(roots)
    while pending:
        pid = pending.pop()
        if pid in seen or not (PROC / str(pid)).exists():
            continue
        seen.append(pid)
        pending.extend(children.get(pid, []))
    return seen


def process_memory(pid: int) -> int:
    """Bytes of memory one process holds: PSS if readable, else RSS; 0 if gone."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def tree_memory(roots: Iterable[int]) -> int:
    return sum(process_memory(pid) for pid in process_tree(roots))


class PeakSampler:
    """Samples the memory of process trees in a background thread."""

    def __init__(self, roots: Sequence[int] = (), interval: float = 0.2):
        self.roots = list(roots)
        self.interval = interval
        self.peak_bytes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add_root(self, pid: int) -> None:
        self.roots.append(pid)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        self.peak_bytes = max(self.peak_bytes, tree_memory(self.roots))
        self.samples += 1

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    log_file: Path | None = None,
    extra_roots: Sequence[int] = (),
    interval: float = 0.2,
) -> Measured:
    """Run a command to its end; its output goes to log_file (or is discarded).

    extra_roots are processes that are not children of the command but work for
    it (a database server): their memory counts in the peak too.
    """
    output = open(log_file, "w") if log_file else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), env=dict(env) if env else None, cwd=cwd, stdout=output, stderr=output
        )
        with PeakSampler([process.pid, *extra_roots], interval) as sampler:
            # wait4 reaps the child and gives its own peak resident size.
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log_file:
            output.close()
    peak = max(sampler.peak_bytes, usage.ru_maxrss * 1024)
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, peak, process.returncode, sampler.samples, cpu)


def own_peak_bytes() -> int:
    """This process's own high-water mark of resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
