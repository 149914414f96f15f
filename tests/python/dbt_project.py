"""Run the dbt project from tests: one isolated workspace per build.

Each workspace has its own Moodle source file, warehouse file and target
directory, so builds in one test never see another test's state.

Parsing the project costs a dbt command most of its start (about 10 CPU
seconds); the suite runs dbt in dozens of workspaces. dbt runs in the
workspace's directory with the workspace's files named relative to it, so every
workspace presents dbt the same profile, and the parse of one workspace
(target/partial_parse.msgpack) serves the next: dbt itself checks that the
project, variables and profile are unchanged and parses again where not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from moodle_analytics.pseudonyms import SECRET_VARIABLE, SecretError, build_secret

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
PARTIAL_PARSE = "partial_parse.msgpack"
# Set per test session by conftest.py; empty: no parse is shared.
PARSE_CACHE_VARIABLE = "MOODLE_TEST_PARSE_CACHE"
# Variables whose value a parse depends on (the profile, the project's env_var calls).
PARSE_ENV_PREFIXES = ("DBT_", "MOODLE_", "ANALYTICS_", "DUCKDB_")
# The demo site's programmes, which the builds of tests read unless a test says otherwise
# (named relative to the project, as MOODLE_PROGRAMMES_DIR must be).
DEMO_PROGRAMMES = "python_scripts/moodle_analytics/demo/programmes"
# Two quick risk models and three folds: for builds that test something other than
# the choice of model (the risk tests use the defaults).
QUICK_RISK_VARS = (
    "--vars",
    "{risk_models: [logistic_regression, decision_tree], risk_cv_folds: 3}",
)
DEMO_PROGRAMMES_DIR = PROJECT_DIR / DEMO_PROGRAMMES
# Data and unit tests run on DuckDB in the built_demo suite; builds that are compared
# with another engine's run models, seeds and snapshots only.
WITHOUT_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


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
        env.setdefault("MOODLE_PROGRAMMES_DIR", DEMO_PROGRAMMES)
        env.update(self.extra_env)
        return env

    def with_env(self, **variables: str) -> Workspace:
        """The same workspace, its builds run with ``variables`` set besides its own."""
        return replace(self, extra_env={**self.extra_env, **variables})

    @property
    def dbt_env(self) -> dict[str, str]:
        """`env` with the workspace's own files named relative to its directory."""
        env = self.env
        for name in ("MOODLE_SOURCE_DUCKDB", "MOODLE_ANALYTICS_DUCKDB", "MOODLE_RISK_MODEL_STORE"):
            path = Path(env[name]) if env.get(name) else None
            if path is not None and path.is_relative_to(self.directory):
                env[name] = str(path.relative_to(self.directory))
        return env

    def dbt(
        self, *args: str, check: bool = True, target_path: Path | None = None
    ) -> subprocess.CompletedProcess:
        """Run a dbt command in the project against this workspace's files (artifacts in
        `target_path`, default the workspace's target directory)."""
        target = target_path or self.directory / "target"
        env = self.dbt_env
        shared_parse = shared_parse_file(args, env)
        if shared_parse is not None and shared_parse.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shared_parse, target / PARTIAL_PARSE)
        command = [
            str(BIN_DIR / "dbt"),
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(self.directory / "logs"),
        ]
        self.directory.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            command, cwd=self.directory, env=env, capture_output=True, text=True
        )
        if shared_parse is not None and (target / PARTIAL_PARSE).exists():
            keep_for_later(target / PARTIAL_PARSE, shared_parse)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
        return result

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The warehouse, read-only, with the Moodle source attached as dbt sees it."""
        connection = duckdb.connect(str(self.warehouse), read_only=True)
        connection.execute(f"attach '{self.source}' as moodle (read_only)")
        self.add_learner_keys(connection)
        return connection

    def query(self, sql: str) -> list[tuple]:
        with self.connect() as connection:
            return connection.execute(sql).fetchall()

    def frame(self, sql: str):
        with self.connect() as connection:
            return connection.execute(sql).df()

    @property
    def pseudonym_secret(self) -> str:
        """The secret this workspace's builds hash learner ids under."""
        with duckdb.connect(str(self.source), read_only=True) as connection:
            front_page = connection.execute(
                "select idnumber from public.mdl_course where format = 'site'"
            ).fetchall()
        return build_secret(front_page[0][0] if front_page else None, self.env)

    def add_learner_keys(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Macros giving the keys this workspace's build gives a Moodle user, so tests
        derive the marts' keys from Moodle's ids: learner_id_of(user id) and
        learner_course_of(user id, course id)."""
        try:
            key = self.pseudonym_secret.encode().hex()
        except SecretError:
            return  # a site built with no secret has no keys to derive
        connection.execute(
            f"create or replace temp macro learner_id_of(user_id) as "
            f"sha256('{key}:' || cast(user_id as varchar))"
        )
        connection.execute(
            "create or replace temp macro learner_course_of(user_id, course_id) as "
            "learner_id_of(user_id) || '-' || cast(course_id as varchar)"
        )


def shared_parse_file(args: tuple[str, ...], env: dict[str, str]) -> Path | None:
    """Where the parse of dbt commands with these variables and settings is kept."""
    cache = env.get(PARSE_CACHE_VARIABLE)
    if not cache:
        return None
    settings = {name: value for name, value in env.items() if name.startswith(PARSE_ENV_PREFIXES)}
    settings.pop(PARSE_CACHE_VARIABLE)
    # Read only when models run (macros/pseudonymous_id.sql): no part of the parse.
    settings.pop(SECRET_VARIABLE, None)
    variables = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--vars"]
    key = json.dumps([variables, sorted(settings.items())])
    return Path(cache) / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.msgpack"


def keep_for_later(parse: Path, shared: Path) -> None:
    """Share a workspace's parse; replaced whole, so a reader never sees half a file."""
    shared.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=shared.parent, delete=False) as copy:
        shutil.copyfileobj(parse.open("rb"), copy)
    os.replace(copy.name, shared)


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


def generate_demo_site(directory: Path, options: str) -> Path:
    """A demo Moodle site generated into ``directory`` (moodle.duckdb, ground_truth.csv)
    with moodle-demo-data's ``options`` (e.g. "--terms 1 --seed 11"); its DuckDB file."""
    from moodle_analytics.demo.cli import main as demo_main

    source = directory / "moodle.duckdb"
    files = ["--duckdb", str(source), "--ground-truth", str(directory / "ground_truth.csv")]
    assert demo_main([*files, *shlex.split(options)]) == 0
    return source
