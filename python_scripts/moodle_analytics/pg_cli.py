"""moodle-pg: a private PostgreSQL server holding the Moodle tables.

moodle-pg start    start a server on 127.0.0.1 that stays up; its settings go to
                   an env file as shell export lines (source it for dbt and psql)
moodle-pg load     load the Moodle tables from the demo DuckDB file (or Parquet)
moodle-pg status   is the server of the env file up?
moodle-pg stop     stop it and delete its data directory
moodle-pg check    check the connection settings a dbt target will use (MOODLE_PG_*,
                   ANALYTICS_PG_*): any problem is reported with the variable to fix
moodle-pg bench    time dbt build of the same data on duckdb, duckdb_pg and postgres
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import psycopg2
from psycopg2.extensions import make_dsn

from moodle_analytics.pg_bench import add_arguments as add_bench_arguments
from moodle_analytics.pg_bench import cmd_bench
from moodle_analytics.pg_check import ConnectionSettingsError, check_target
from moodle_analytics.pg_load import METHODS, LoadError, ensure_database, load_moodle
from moodle_analytics.pg_roles import (
    RoleError,
    create_bi_role,
    create_build_role,
    create_reader_role,
)
from moodle_analytics.pg_server import (
    DEFAULT_DATABASE,
    DEFAULT_ENV_FILE,
    MARKER_FILE,
    PostgresError,
    PostgresServer,
    read_env_file,
    write_env_file,
)

PROG = "moodle-pg"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except the empty ones the help text already explains."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def _recorded_server(env_file: Path) -> PostgresServer | None:
    """The server an env file describes, or None if the file records none."""
    if not env_file.exists():
        return None
    values = read_env_file(env_file)
    if "MOODLE_PG_ROOT" not in values:
        return None
    return PostgresServer.from_env_file(env_file)


def cmd_start(args: argparse.Namespace) -> int:
    recorded = _recorded_server(args.env_file)
    if recorded is not None:
        if recorded.is_running():
            print(
                f"{PROG}: a server is already running on port {recorded.port} "
                f"({args.env_file}); `{PROG} stop` first",
                file=sys.stderr,
            )
            return 1
        if recorded.root is not None and (recorded.root / MARKER_FILE).exists():
            recorded.stop()
    server = PostgresServer(
        args.port,
        database=args.database,
        base_dir=args.base_dir,
        install=args.install,
        persistent=True,
    )
    server.start()
    server.write_env_file(args.env_file)
    print(
        f"{PROG}: PostgreSQL on {server.host}:{server.port}, database {server.database}, "
        f"data in {server.data_dir}\n{PROG}: settings in {args.env_file} "
        f"(source {args.env_file})"
    )
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    server = _recorded_server(args.env_file)
    if server is None:
        print(f"{PROG}: no server recorded in {args.env_file}; nothing to stop")
        return 0
    if server.root is not None and not server.root.exists():
        print(f"{PROG}: {server.root} is gone; removing stale {args.env_file}")
    else:
        server.stop()
        print(f"{PROG}: stopped the server on port {server.port} and removed its data")
    args.env_file.unlink()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    server = _recorded_server(args.env_file)
    if server is None:
        print(f"{PROG}: not running (no server recorded in {args.env_file})")
        return 3
    if not server.is_running():
        print(f"{PROG}: not running (stale {args.env_file}; `{PROG} stop` tidies it)")
        return 3
    try:
        conn = server.connect(connect_timeout=5)
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        conn.close()
    except psycopg2.Error as error:
        print(f"{PROG}: postmaster {server.postmaster_pid()} up but not answering: {error}")
        return 1
    print(
        f"{PROG}: running, PostgreSQL {version} on {server.host}:{server.port}, "
        f"pid {server.postmaster_pid()}, data {server.data_dir}"
    )
    return 0


def _connection_settings(env_file: Path) -> dict[str, str]:
    """Server settings from the env file, else from MOODLE_PG_* in the environment."""
    if env_file.exists():
        values = read_env_file(env_file)
        if "MOODLE_PG_PORT" in values:
            return values
    if "MOODLE_PG_HOST" in os.environ or "MOODLE_PG_PORT" in os.environ:
        return {key: value for key, value in os.environ.items() if key.startswith("MOODLE_PG_")}
    raise PostgresError(
        f"no server: {env_file} does not exist and MOODLE_PG_HOST/PORT are not set; "
        f"run `{PROG} start` first"
    )


def cmd_load(args: argparse.Namespace) -> int:
    settings = _connection_settings(args.env_file)
    dsn = make_dsn(
        host=settings.get("MOODLE_PG_HOST", "127.0.0.1"),
        port=settings.get("MOODLE_PG_PORT", "5432"),
        user=settings.get("MOODLE_PG_USER", "postgres"),
        password=settings.get("MOODLE_PG_PASSWORD"),
        dbname="postgres",
    )
    database = args.database or settings.get("MOODLE_PG_DBNAME") or DEFAULT_DATABASE
    source = args.duckdb or args.parquet_dir
    print(f"{PROG}: loading {source} into {database}.{args.schema} ({args.method})")
    result = load_moodle(
        dsn,
        source,
        database=database,
        schema=args.schema,
        prefix=args.prefix,
        source_schema=args.source_schema,
        method=args.method,
        jobs=args.jobs,
        replace=args.replace,
        strict=args.strict,
        log=lambda message: print(f"{PROG}:   {message}", flush=True),
    )
    log_rows = result.row_counts["logstore_standard_log"]
    print(
        f"{PROG}: {result.total_rows:,} rows ({log_rows:,} log rows) in "
        f"{result.seconds['total']:.1f} s"
    )
    if args.roles:
        conn = psycopg2.connect(make_dsn(dsn, dbname=database))
        try:
            reader_password = create_reader_role(
                conn,
                args.reader_role,
                settings.get("MOODLE_PG_READER_PASSWORD"),
                schema=args.schema,
                prefix=args.prefix,
            )
            builder_password = create_build_role(
                conn,
                args.builder_role,
                settings.get("MOODLE_PG_BUILDER_PASSWORD"),
                reader_role=args.reader_role,
            )
            bi_password = create_bi_role(
                conn, args.bi_role, settings.get("MOODLE_PG_BI_PASSWORD"), moodle_schema=args.schema
            )
        finally:
            conn.close()
        # duckdb_pg writes its marts to a database of their own, made by the builder.
        ensure_database(dsn, args.analytics_database)
        conn = psycopg2.connect(make_dsn(dsn, dbname=args.analytics_database))
        try:
            create_build_role(
                conn, args.builder_role, builder_password, reader_role=args.reader_role
            )
        finally:
            conn.close()
        # Keep what the file held and add the role logins, so one file serves all.
        values = read_env_file(args.env_file) if args.env_file.exists() else {}
        values.update(
            MOODLE_PG_READER_USER=args.reader_role,
            MOODLE_PG_READER_PASSWORD=reader_password,
            MOODLE_PG_BUILDER_USER=args.builder_role,
            MOODLE_PG_BUILDER_PASSWORD=builder_password,
            MOODLE_PG_BI_USER=args.bi_role,
            MOODLE_PG_BI_PASSWORD=bi_password,
            # dbt grants the marts to these roles (postgres and duckdb_pg targets).
            MOODLE_PG_BI_ROLES=args.bi_role,
            ANALYTICS_PG_DBNAME=args.analytics_database,
        )
        write_env_file(args.env_file, values)
        print(
            f"{PROG}: roles {args.reader_role} (SELECT on the Moodle tables), "
            f"{args.builder_role} (reads them, creates schemas in {database} and "
            f"{args.analytics_database}) and {args.bi_role} (no Moodle access) ready; "
            f"logins in {args.env_file}"
        )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    if args.env_file is not None:
        environ.update(read_env_file(args.env_file))
    lines = check_target(args.target, schema=args.schema, prefix=args.prefix, environ=environ)
    for line in lines:
        print(f"{PROG}: {args.target}: {line}")
    print(f"{PROG}: {args.target}: connection settings OK")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, formatter_class=_HelpFormatter)
        sub.add_argument(
            "--env-file",
            type=Path,
            default=DEFAULT_ENV_FILE,
            help="shell export lines with the server's connection settings",
        )
        return sub

    start = add("start", "start a private server that stays up")
    start.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: a free one)")
    start.add_argument(
        "--database", default=DEFAULT_DATABASE, help="database to create for the Moodle tables"
    )
    start.add_argument("--base-dir", type=Path, help="where to make the temporary directory")
    start.add_argument(
        "--install",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="apt-get install postgresql if the server binaries are missing (root only)",
    )
    start.set_defaults(func=cmd_start)

    add("stop", "stop the server and delete its data directory").set_defaults(func=cmd_stop)
    add("status", "report whether the server is up (exit 3 if not)").set_defaults(func=cmd_status)

    load = add("load", "load the Moodle tables into the server")
    source = load.add_mutually_exclusive_group(required=True)
    source.add_argument("--duckdb", type=Path, help="DuckDB file from moodle-demo-data")
    source.add_argument("--parquet-dir", type=Path, help="directory of <prefix><table>.parquet")
    load.add_argument("--database", help="target database (default: MOODLE_PG_DBNAME, moodle)")
    load.add_argument("--schema", default="public", help="target schema")
    load.add_argument("--prefix", default="mdl_", help="table prefix, source and target")
    load.add_argument("--source-schema", default="public", help="schema in the DuckDB file")
    load.add_argument("--method", choices=METHODS, default="duckdb", help="how rows are moved")
    load.add_argument(
        "--jobs",
        type=int,
        help="parallel connections (default: half the CPUs to copy, up to 4 to index)",
    )
    load.add_argument(
        "--replace", action="store_true", help="drop and reload Moodle tables already there"
    )
    load.add_argument(
        "--strict",
        action="store_true",
        help="fail, rather than warn, when the source breaks one of Moodle's unique indexes",
    )
    load.add_argument(
        "--roles",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="(re)create the reader, build and BI roles and save their logins in the env file",
    )
    load.add_argument(
        "--reader-role", default="moodle_reader", help="login with SELECT on the Moodle tables only"
    )
    load.add_argument(
        "--builder-role",
        default="moodle_builder",
        help="login that reads the Moodle tables and creates the analytics schemas",
    )
    load.add_argument(
        "--analytics-database",
        default="analytics",
        help="database for the marts of the duckdb_pg target (created if missing)",
    )
    load.add_argument(
        "--bi-role",
        default="moodle_bi",
        help="login for dashboards, no access to the Moodle schema",
    )
    load.set_defaults(func=cmd_load)

    check = commands.add_parser(
        "check",
        help="check the PostgreSQL settings a dbt target will use",
        formatter_class=_HelpFormatter,
    )
    check.add_argument(
        "--target",
        choices=("postgres", "duckdb_pg"),
        default="postgres",
        help="the profiles.yml target whose settings to check",
    )
    check.add_argument(
        "--env-file",
        type=Path,
        help="take the settings from this file of export lines (default: the environment)",
    )
    check.add_argument("--schema", default="public", help="schema of the Moodle tables")
    check.add_argument("--prefix", default="mdl_", help="prefix of the Moodle tables")
    check.set_defaults(func=cmd_check)

    bench = commands.add_parser(
        "bench",
        help="time dbt build of one Moodle data set on each target",
        formatter_class=_HelpFormatter,
    )
    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (PostgresError, LoadError, RoleError, ConnectionSettingsError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except psycopg2.Error as error:
        print(f"{PROG}: PostgreSQL error: {str(error).strip()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
