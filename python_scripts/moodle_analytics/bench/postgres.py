"""The same full build inside PostgreSQL (dbt-postgres), on a private server."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from moodle_analytics.bench.dbt_runs import DbtProject
from moodle_analytics.pg_load import load_moodle
from moodle_analytics.pg_server import PostgresServer


def postgres_build(
    source: Path,
    project_dir: Path,
    profiles_dir: Path,
    run_dir: Path,
    env: Mapping[str, str],
    say: Callable[[str], None] = print,
    build_args: Sequence[str] = (),
) -> dict:
    """Start a private server, load the site, `dbt build` with target postgres.

    The peak memory counts dbt and every server process (PSS, so the shared
    buffers count once). The server and its data are deleted afterwards.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with PostgresServer() as server:
        start_seconds = time.perf_counter() - started
        say("  postgres: loading the site ...")
        loaded = time.perf_counter()
        load = load_moodle(server.dsn(), source, database="moodle", replace=True)
        load_seconds = time.perf_counter() - loaded
        project = DbtProject(
            project_dir,
            profiles_dir,
            run_dir,
            {**env, **server.env(libpq=False), "DBT_TARGET": "postgres"},
        )
        parse = project.run("parse", name="postgres_parse")
        say("  postgres: dbt build ...")
        build = project.run(
            "build", *build_args, name="postgres_build", extra_roots=[server.postmaster_pid() or 0]
        )
    return {
        "server_start_seconds": round(start_seconds, 2),
        "load_seconds": round(load_seconds, 2),
        "loaded_rows": load.total_rows,
        "parse": parse.summary(),
        "build": build.summary(),
        "slowest_nodes": build.slowest(),
    }
