"""Fixtures shared by the test suite."""

from __future__ import annotations

import pytest

from dbt_project import Workspace, generate_demo

# The private PostgreSQL and MariaDB server fixtures.
pytest_plugins = ["postgres_fixtures", "mysql_fixtures"]


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory) -> Workspace:
    """The default demo site, built once with `dbt build` (every data test passing)."""
    workspace = generate_demo(tmp_path_factory.mktemp("built_demo"))
    workspace.dbt("build")
    return workspace
