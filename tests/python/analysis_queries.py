"""The dbt analyses (analyses/): compiled for a workspace, their SQL read back.

A BI user compiles an analysis and pastes the SQL; the tests do the same and run it,
on DuckDB (test_analyses.py) and on PostgreSQL (test_postgres_build.py).
"""

from __future__ import annotations

import json

from dbt_project import PROJECT_DIR, Workspace

ANALYSES_DIR = PROJECT_DIR / "analyses"


def analysis_names() -> list[str]:
    return sorted(path.stem for path in ANALYSES_DIR.glob("*.sql"))


def compile_analyses(
    workspace: Workspace, *dbt_args: str, variables: dict | None = None
) -> dict[str, str]:
    """Every analysis compiled for the workspace, by name, into a target directory of
    its own: the build's artifacts (run_results.json) stay what the build wrote."""
    target = workspace.directory / ("analyses" if variables is None else "analyses-with-vars")
    command = ["compile", "--select", "resource_type:analysis", *dbt_args]
    if variables is not None:
        command += ["--vars", json.dumps(variables)]
    workspace.dbt(*command, target_path=target)
    compiled = target / "compiled" / "moodle_analytics" / "analyses"
    return {name: (compiled / f"{name}.sql").read_text() for name in analysis_names()}
