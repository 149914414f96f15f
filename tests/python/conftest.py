"""Fixtures shared by the test suite, and the order its modules start in.

`make test` runs the suite in three processes (pytest-xdist, whole modules to a
process); what more than one module builds is built once (shared_builds.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbt_project import PARSE_CACHE_VARIABLE, Workspace, generate_demo
from shared_builds import built_once, session_root

# The private PostgreSQL and MariaDB server fixtures.
pytest_plugins = ["postgres_fixtures", "mysql_fixtures"]

# Modules that take a minute or more, longest first (pytest --durations, three
# processes): whole modules go to the processes in this order, so none is left
# running a long module alone at the end.
LONGEST_FIRST = (
    "test_spark_build.py",
    "test_postgres_build.py",
    "test_optional_tables.py",
    "test_incremental_build.py",
    "test_mysql_build.py",
    "test_project_checks.py",
    "test_logs_report_build.py",
    "test_bad_log_rows.py",
    "test_risk_leakage.py",
    "test_risk_fallback.py",
    "test_risk_evaluate.py",
    "test_risk_postgres.py",
    "test_docs_site.py",
    "test_dashboard.py",
    "test_analyses.py",
    "test_actions_programmes.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session", autouse=True)
def shared_dbt_parse(tmp_path_factory) -> Iterator[Path]:
    """One directory of dbt parses for the session's workspaces (dbt_project.py)."""
    directory = session_root(tmp_path_factory) / "dbt_parses"
    os.environ[PARSE_CACHE_VARIABLE] = str(directory)
    yield directory
    os.environ.pop(PARSE_CACHE_VARIABLE, None)


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory) -> Workspace:
    """The default demo site, built once with `dbt build` (every data test passing)."""

    def build(directory: Path) -> None:
        generate_demo(directory).dbt("build")

    own = built_once(tmp_path_factory, "built_demo", build)
    return Workspace(
        directory=own,
        source=own / "moodle_source.duckdb",
        warehouse=own / "moodle_analytics.duckdb",
        ground_truth=own / "demo_ground_truth.csv",
    )
