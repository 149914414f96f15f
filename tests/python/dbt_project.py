"""Run the dbt project from tests: one isolated workspace per build.

Each workspace has its own Moodle source file, warehouse file and target
directory, so builds in one test never see another test's state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent


@dataclass
class Workspace:
    directory: Path
    source: Path
    warehouse: Path
    ground_truth: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DBT_PROFILES_DIR=str(PROJECT_DIR),
            MOODLE_SOURCE_DUCKDB=str(self.source),
            MOODLE_ANALYTICS_DUCKDB=str(self.warehouse),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            # Each workspace fits its own risk models (none from other tests).
            MOODLE_RISK_MODEL_STORE=str(self.directory / "risk_model_store"),
        )
        env.update(self.extra_env)
        return env

    def dbt(
        self, *args: str, check: bool = True, target_path: Path | None = None
    ) -> subprocess.CompletedProcess:
        """Run a dbt command in the project against this workspace's files (artifacts in
        `target_path`, default the workspace's target directory)."""
        command = [
            str(BIN_DIR / "dbt"),
            *args,
            "--target-path",
            str(target_path or self.directory / "target"),
            "--log-path",
            str(self.directory / "logs"),
        ]
        result = subprocess.run(
            command, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True
        )
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
        return result

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The warehouse, read-only, with the Moodle source attached as dbt sees it."""
        connection = duckdb.connect(str(self.warehouse), read_only=True)
        connection.execute(f"attach '{self.source}' as moodle (read_only)")
        return connection

    def query(self, sql: str) -> list[tuple]:
        with self.connect() as connection:
            return connection.execute(sql).fetchall()

    def frame(self, sql: str):
        with self.connect() as connection:
            return connection.execute(sql).df()


def generate_demo(directory: Path, *extra_args: str) -> Workspace:
    """A fresh demo Moodle site in `directory` (a workspace not yet built)."""
    directory.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(
        directory=directory,
        source=directory / "moodle_source.duckdb",
        warehouse=directory / "moodle_analytics.duckdb",
        ground_truth=directory / "demo_ground_truth.csv",
    )
    subprocess.run(
        [
            str(BIN_DIR / "moodle-demo-data"),
            "--duckdb",
            str(workspace.source),
            "--ground-truth",
            str(workspace.ground_truth),
            "--no-progress",
            *extra_args,
        ],
        check=True,
        capture_output=True,
    )
    return workspace
