"""Builds on a private PostgreSQL server, measured: one site loaded, dbt build per target.

* postgres_build (moodle-bench --postgres): the full build with dbt-postgres, its
  peak memory counting dbt and every server process (PSS, so the shared buffers
  count once);
* compare_targets (moodle-pg bench): the same data built on duckdb, duckdb_pg and
  postgres, as the roles a site would use: duckdb_pg attaches the Moodle database
  read-only as the reader role and writes its marts to the "analytics" database
  as the build role; postgres builds inside the Moodle database as the build role.

Both start a server in a temporary directory and load the Moodle tables of a
DuckDB file into it (loaded_server); the server and its data are deleted
afterwards. Figures only: nothing is asserted.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from moodle_analytics.bench.dbt_runs import DbtProject, DbtRun
from moodle_analytics.postgres.load import LoadResult, load_moodle
from moodle_analytics.postgres.roles import SiteRoles, create_site_roles
from moodle_analytics.postgres.server import DEFAULT_DATABASE, PostgresServer

TARGETS = ("duckdb", "duckdb_pg", "postgres")


@dataclass
class LoadedServer:
    """A private server holding the site's Moodle tables in database ``moodle``."""

    server: PostgresServer
    start_seconds: float
    load: LoadResult
    load_seconds: float

    def login(self, prefix: str, role: str, password: str, database: str) -> dict[str, str]:
        """The <prefix>_* variables a dbt target reads to connect as ``role``."""
        return {
            f"{prefix}_HOST": self.server.host,
            f"{prefix}_PORT": str(self.server.port),
            f"{prefix}_USER": role,
            f"{prefix}_PASSWORD": password,
            f"{prefix}_DBNAME": database,
        }


@contextlib.contextmanager
def loaded_server(
    source: Path, say: Callable[[str], None], base_dir: Path | None = None
) -> Iterator[LoadedServer]:
    """Start a private server (in ``base_dir``) and load the site of ``source`` into it."""
    started = time.perf_counter()
    with PostgresServer(base_dir=base_dir) as server:
        start_seconds = time.perf_counter() - started
        say("  postgres: loading the site ...")
        started = time.perf_counter()
        load = load_moodle(server.dsn(), source, database=DEFAULT_DATABASE, replace=True)
        yield LoadedServer(server, start_seconds, load, time.perf_counter() - started)


def postgres_build(
    source: Path,
    project_dir: Path,
    profiles_dir: Path,
    run_dir: Path,
    env: Mapping[str, str],
    say: Callable[[str], None] = print,
    build_args: Sequence[str] = (),
) -> dict:
    """Start a private server, load the site, `dbt build` with target postgres."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with loaded_server(source, say) as site:
        project = DbtProject(
            project_dir,
            profiles_dir,
            run_dir,
            {**env, **site.server.env(libpq=False), "DBT_TARGET": "postgres"},
        )
        parse = project.run("parse", name="postgres_parse")
        say("  postgres: dbt build ...")
        build = project.run(
            "build",
            *build_args,
            name="postgres_build",
            extra_roots=[site.server.postmaster_pid() or 0],
        )
    return {
        "server_start_seconds": round(site.start_seconds, 2),
        "load_seconds": round(site.load_seconds, 2),
        "loaded_rows": site.load.total_rows,
        "parse": parse.summary(),
        "build": build.summary(),
        "slowest_nodes": build.slowest(),
    }


@dataclass
class Timing:
    phase: str
    seconds: float
    detail: str
    ok: bool = True

    def line(self) -> str:
        return f"{self.phase}: {self.seconds:.1f} s ({self.detail})"


def _target_env(
    target: str, site: LoadedServer, source: Path, work_dir: Path, passwords: dict[str, str]
) -> dict[str, str]:
    """The variables of one profiles.yml target, logged in as a site would be."""
    roles = SiteRoles()
    if target == "duckdb":
        return {
            "MOODLE_SOURCE_DUCKDB": str(source),
            "MOODLE_ANALYTICS_DUCKDB": str(work_dir / "duckdb.duckdb"),
        }
    builder = (roles.builder, passwords[roles.builder])
    if target == "duckdb_pg":
        return {
            **site.login("MOODLE_PG", roles.reader, passwords[roles.reader], DEFAULT_DATABASE),
            **site.login("ANALYTICS_PG", *builder, roles.analytics_database),
            "MOODLE_ANALYTICS_DUCKDB_PG": str(work_dir / "duckdb_pg.duckdb"),
            "MOODLE_PG_BI_ROLES": roles.bi,
        }
    return {**site.login("MOODLE_PG", *builder, DEFAULT_DATABASE), "MOODLE_PG_BI_ROLES": roles.bi}


def _python_model_seconds(run: DbtRun, target_path: Path) -> float:
    """Time the run spent in dbt Python models (the risk models), from its manifest."""
    try:
        nodes = json.loads((target_path / "manifest.json").read_text()).get("nodes", {})
    except (OSError, ValueError):
        return 0.0
    return sum(
        node["seconds"]
        for node in run.nodes
        if nodes.get(node["node"], {}).get("language") == "python"
    )


def _build_detail(run: DbtRun, target_path: Path) -> str:
    """dbt's own count of nodes by status, the peak memory and the Python models' time."""
    statuses = Counter(node["status"] for node in run.nodes)
    passed = statuses["success"] + statuses["pass"]
    failed = statuses["error"] + statuses["fail"] + statuses["runtime error"]
    detail = (
        f"PASS={passed} WARN={statuses['warn']} ERROR={failed} SKIP={statuses['skipped']}; "
        f"peak {run.peak_bytes / 1e9:.2f} GB"
    )
    python = _python_model_seconds(run, target_path)
    return detail + (f"; Python models {python:.1f} s" if python else "")


def compare_targets(
    source: Path,
    work_dir: Path,
    project_dir: Path,
    targets: Sequence[str] = TARGETS,
    dbt_args: Sequence[str] = (),
    say: Callable[[str], None] = print,
) -> list[Timing]:
    """Load ``source`` into a private server in ``work_dir``, then time `dbt build` of
    the project on each target in turn (each in work_dir/<target>)."""
    with loaded_server(source, say, base_dir=work_dir) as site:
        timings = [
            Timing("load into PostgreSQL", site.load_seconds, f"{site.load.total_rows:,} rows")
        ]
        say(timings[-1].line())
        passwords = create_site_roles(site.server.dsn(), DEFAULT_DATABASE)
        clean = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MOODLE_PG_", "ANALYTICS_PG_", "PG"))
        }
        for target in targets:
            run_dir = work_dir / target
            run_dir.mkdir(parents=True, exist_ok=True)
            env = {**clean, **_target_env(target, site, source, work_dir, passwords)}
            project = DbtProject(project_dir, project_dir, run_dir, env)
            # The server's memory counts in the peak of the targets that use it.
            server = [] if target == "duckdb" else [site.server.postmaster_pid() or 0]
            run = project.run(
                "build", "--target", target, *dbt_args, name=f"build_{target}", extra_roots=server
            )
            detail = _build_detail(run, project.target_path)
            timings.append(Timing(f"dbt build {target}", run.seconds, detail, run.ok))
            say(timings[-1].line())
    return timings
