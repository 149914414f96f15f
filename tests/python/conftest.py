"""Fixtures shared by the test suite."""

from __future__ import annotations

import os

import pytest

from dbt_project import PARSE_CACHE_VARIABLE, Workspace, generate_demo

# The private PostgreSQL server fixtures.
pytest_plugins = ["postgres_fixtures"]


@pytest.fixture(scope="session", autouse=True)
def shared_dbt_parse(tmp_path_factory):
    """One directory of dbt parses for the session's workspaces (dbt_project.py)."""
    directory = tmp_path_factory.getbasetemp() / "dbt_parses"
    os.environ[PARSE_CACHE_VARIABLE] = str(directory)
    yield directory
    os.environ.pop(PARSE_CACHE_VARIABLE, None)


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory) -> Workspace:
    """The default demo site, built once with `dbt build` (every data test passing)."""
    workspace = generate_demo(tmp_path_factory.mktemp("built_demo"))
    workspace.dbt("build")
    return workspace
