"""moodle-demo-data on the command line: bad arguments and sizing by log rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

CLI = [sys.executable, "-m", "moodle_analytics.demo.cli"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--learners-per-course", "-5"], "negative"),
        (["--seed", "-1"], "negative"),
        (["--terms", "many"], "whole number"),
        (["--weeks", "14", "--current-week", "15"], "--current-week"),
        (["--as-of", "next tuesday"], "ISO"),
        (["--ground-truth", "."], "directory"),
        (["--prefix", "Bad-Prefix"], "--prefix"),
        (["--schema", "no spaces"], "--schema"),
        (["--no-such-option"], "unrecognized"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, mentions):
    result = run_cli("--duckdb", str(tmp_path / "site.duckdb"), *args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("moodle-demo-data: error:")
    assert mentions in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "site.duckdb").exists(), "nothing is written on bad arguments"


def test_target_log_rows_sizes_the_site(tmp_path):
    target = 150_000
    result = run_cli(
        "--duckdb", str(tmp_path / "site.duckdb"),
        "--ground-truth", str(tmp_path / "truth.csv"),
        "--target-log-rows", str(target),
        "--progress",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "simulating" in result.stderr, "the progress bar was asked for"
    con = duckdb.connect(str(tmp_path / "site.duckdb"), read_only=True)
    rows = con.execute("SELECT count(*) FROM public.mdl_logstore_standard_log").fetchone()[0]
    con.close()
    assert 0.9 * target <= rows <= 1.1 * target
    assert (tmp_path / "truth.csv").exists()
    assert (tmp_path / "truth_anomalies.csv").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".moodle-demo")]
    assert leftovers == [], "the spool directory is removed"
