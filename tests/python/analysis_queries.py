"""The dbt analyses (analyses/): compiled for a workspace, their SQL read back.

A BI user compiles an analysis and pastes the SQL; the tests do the same and run it,
on DuckDB (test_analyses.py) and on PostgreSQL (test_postgres_build.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from dbt_project import BIN_DIR, PROJECT_DIR, Workspace

ANALYSES_DIR = PROJECT_DIR / "analyses"


def analysis_names() -> list[str]:
    return sorted(path.stem for path in ANALYSES_DIR.glob("*.sql"))


def compile_analyses(
    workspace: Workspace, *dbt_args: str, variables: dict | None = None
) -> dict[str, str]:
    """Every analysis compiled for the workspace, by name. With `variables`, compiled
    into a target directory of its own, so the workspace's partial parse is kept."""
    command = ["compile", "--select", "resource_type:analysis", *dbt_args]
    if variables is None:
        target = workspace.directory / "target"
        workspace.dbt(*command)
    else:
        target = workspace.directory / "analyses-with-vars"
        result = subprocess.run(
            [
                str(BIN_DIR / "dbt"),
                *command,
                "--vars",
                json.dumps(variables),
                "--target-path",
                str(target),
                "--log-path",
                str(target / "logs"),
            ],
            cwd=PROJECT_DIR,
            env=workspace.env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise AssertionError(f"dbt compile failed:\n{result.stdout[-4000:]}")
    return compiled_analyses(target)


def compiled_analyses(target: Path) -> dict[str, str]:
    compiled = target / "compiled" / "moodle_analytics" / "analyses"
    return {name: (compiled / f"{name}.sql").read_text() for name in analysis_names()}
