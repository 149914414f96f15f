"""pytest fixtures: a private PostgreSQL server, with a small Moodle demo loaded.

A plugin module; tests/python/conftest.py registers it with
``pytest_plugins = ["postgres_fixtures"]``.

* ``pg_server``: a fresh cluster per test module, stopped and deleted afterwards.
* ``pg_server_factory``: call it for more clusters; each is stopped after the test.
* ``pg_demo_source``: a small demo site (DuckDB file plus Parquet copies), made once
  per session.
* ``pg_demo_reference``: that site built on DuckDB (models, seeds and snapshots; the
  quick risk models), once per session: what the other engines' marts equal.
* ``pg_moodle``: ``pg_server`` with the demo loaded into database ``moodle``.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbt_project import QUICK_RISK_VARS, WITHOUT_TESTS, Workspace
from moodle_analytics.postgres.load import LoadResult, load_moodle
from moodle_analytics.postgres.server import PostgresError, PostgresServer
from shared_builds import built_once

DEMO_ARGS = ("--learners-per-course", "20", "--no-progress")


@dataclass
class DemoSource:
    duckdb: Path
    parquet_dir: Path
    ground_truth: Path


@dataclass
class ReferenceBuild:
    workspace: Workspace
    result: subprocess.CompletedProcess

    def require(self) -> None:
        if self.result.returncode != 0:
            pytest.fail(f"the DuckDB build failed:\n{self.result.stdout[-5000:]}", pytrace=False)


@dataclass
class LoadedMoodle:
    server: PostgresServer
    source: DemoSource
    result: LoadResult

    @property
    def database(self) -> str:
        return self.result.database

    def connect(self, **kwargs):
        return self.server.connect(self.result.database, **kwargs)


def start_server(**kwargs) -> PostgresServer:
    try:
        return PostgresServer(**kwargs).start()
    except PostgresError as error:
        pytest.fail(f"could not start a private PostgreSQL server: {error}", pytrace=False)


def demo_source(directory: Path) -> DemoSource:
    return DemoSource(
        directory / "moodle_source.duckdb",
        directory / "parquet",
        directory / "demo_ground_truth.csv",
    )


def generate_demo(directory: Path, *args: str) -> DemoSource:
    """Run moodle-demo-data into ``directory``; extra ``args`` override DEMO_ARGS."""
    directory.mkdir(parents=True, exist_ok=True)
    source = demo_source(directory)
    command = [
        sys.executable,
        "-m",
        "moodle_analytics.demo.cli",
        "--duckdb",
        str(source.duckdb),
        "--ground-truth",
        str(source.ground_truth),
        "--parquet-dir",
        str(source.parquet_dir),
        *(args or DEMO_ARGS),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"moodle-demo-data failed:\n{result.stderr}", pytrace=False)
    return source


@pytest.fixture(scope="module")
def pg_server():
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def pg_server_factory():
    servers: list[PostgresServer] = []

    def start(**kwargs) -> PostgresServer:
        server = start_server(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def pg_demo_source(tmp_path_factory) -> DemoSource:
    return demo_source(built_once(tmp_path_factory, "pg_demo", generate_demo))


def reference_workspace(directory: Path, source: DemoSource) -> Workspace:
    return Workspace(
        directory=directory,
        source=source.duckdb,
        warehouse=directory / "moodle_analytics.duckdb",
        ground_truth=source.ground_truth,
    )


@pytest.fixture(scope="module")
def pg_demo_reference(tmp_path_factory, pg_demo_source: DemoSource) -> ReferenceBuild:
    """The module's own copy of the DuckDB build of ``pg_demo_source``, built once."""

    def build(directory: Path) -> None:
        result = reference_workspace(directory, pg_demo_source).dbt(
            "build", *WITHOUT_TESTS, *QUICK_RISK_VARS, check=False
        )
        (directory / "build_output.txt").write_text(result.stdout)
        (directory / "build_returncode.txt").write_text(str(result.returncode))

    own = built_once(tmp_path_factory, "pg_demo_reference", build)
    result = subprocess.CompletedProcess(
        ["dbt", "build"],
        int((own / "build_returncode.txt").read_text()),
        (own / "build_output.txt").read_text(),
        "",
    )
    return ReferenceBuild(reference_workspace(own, pg_demo_source), result)


@pytest.fixture(scope="module")
def pg_moodle(pg_server: PostgresServer, pg_demo_source: DemoSource) -> LoadedMoodle:
    result = load_moodle(pg_server.dsn(), pg_demo_source.duckdb, database="moodle")
    return LoadedMoodle(pg_server, pg_demo_source, result)
