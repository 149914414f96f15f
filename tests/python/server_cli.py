"""A private server's command line (moodle-pg, moodle-mysql) run as a user runs it:
start, status, load, stop, each in its own process, against one env file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from moodle_analytics.moodle_db.local_server import port_is_free, read_env_file


def check_start_load_status_stop(
    module: str,
    env_prefix: str,
    env_file: Path,
    source: Path,
    reader_reads_the_log: Callable[[dict[str, str]], None],
    start_args: tuple[str, ...] = (),
) -> None:
    """One server per env file, kept private (mode 600); a second load without
    --replace refused; stop removes the server's directory, frees its port and the env
    file. ``reader_reads_the_log(values)`` checks, with the env file's variables, that
    the reader login the load made reads the loaded log."""

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", module, *args, "--env-file", str(env_file)]
        return subprocess.run(command, capture_output=True, text=True)

    assert cli("status").returncode == 3
    started = cli("start", *start_args)
    assert started.returncode == 0, started.stderr
    try:
        assert env_file.stat().st_mode & 0o077 == 0
        assert cli("start").returncode == 1  # one server per env file
        assert cli("status").returncode == 0
        loaded = cli("load", "--duckdb", str(source))
        assert loaded.returncode == 0, loaded.stderr
        values = read_env_file(env_file)
        reader_reads_the_log(values)
        again = cli("load", "--duckdb", str(source))
        assert again.returncode == 2 and "--replace" in again.stderr
    finally:
        stopped = cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not env_file.exists()
    assert not os.path.exists(values[f"{env_prefix}_ROOT"])
    assert port_is_free(int(values[f"{env_prefix}_PORT"]))
    assert cli("status").returncode == 3
