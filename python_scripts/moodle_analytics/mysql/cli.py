"""moodle-mysql: a private MariaDB server holding the Moodle tables, and the checks of
the duckdb_mysql target's logins.

moodle-mysql start    start a server on 127.0.0.1 that stays up; its settings go to
                      an env file as shell export lines (source it for dbt)
moodle-mysql load     load the Moodle tables from the demo DuckDB file (or Parquet)
                      and create the reader, builder and BI logins
moodle-mysql status   is the server of the env file up?
moodle-mysql stop     stop it and delete its data directory
moodle-mysql check    check the logins the duckdb_mysql target will use
                      (MOODLE_MYSQL_*, ANALYTICS_MYSQL_*): any problem is reported
                      with the variable to fix
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

from moodle_analytics import cli_options
from moodle_analytics.moodle_db.extensions import ExtensionError
from moodle_analytics.moodle_db.server_commands import ServerCommands
from moodle_analytics.moodle_db.source import LoadError
from moodle_analytics.moodle_db.tables import optional_tables_line
from moodle_analytics.mysql.check import (
    OUTPUT_PREFIX,
    SOURCE_PREFIX,
    MySQLSettings,
    MySQLSettingsError,
    check_reads_moodle,
    check_writes_database,
    connect,
    connect_output,
    query,
)
from moodle_analytics.mysql.load import load_moodle
from moodle_analytics.mysql.roles import (
    RoleError,
    SiteLogins,
    bi_roles_from,
    create_site_logins,
)
from moodle_analytics.mysql.server import (
    DEFAULT_DATABASE,
    MariaDBError,
    MariaDBServer,
)

SERVERS = ServerCommands(MariaDBServer)
PROG = SERVERS.prog
say = SERVERS.say


def cmd_status(args: argparse.Namespace) -> int:
    server = SERVERS.running(args.env_file)
    if server is None:
        return 3
    with server.connect() as connection:
        version = query(connection, "SELECT version()")[0][0]
    say(f"running, MariaDB {version} on {server.host}:{server.port}, pid {server.pid()}")
    return 0


def _admin_settings(env_file: Path) -> MySQLSettings:
    """The administrator's login: from the env file, else MOODLE_MYSQL_* (any database)."""
    environ = SERVERS.environ(env_file if env_file.exists() else None)
    environ["MOODLE_MYSQL_DBNAME"] = "mysql"
    return MySQLSettings.from_env(SOURCE_PREFIX, environ=environ)


def cmd_load(args: argparse.Namespace) -> int:
    source = cli_options.input_moodle_source(args)
    admin = _admin_settings(args.env_file)
    say(f"loading {source} into {args.database} on {admin.describe()}")
    options = {name: getattr(args, name) for name in ("database", "prefix", "replace", "strict")}
    status = SERVERS.load(
        lambda log: load_moodle(admin, source, log=log, **options),
        args.database,
        (LoadError, duckdb.Error),
    )
    if status:
        return status
    if args.logins:
        logins = SiteLogins(args.reader, args.builder, args.bi, args.analytics_database)
        values = SERVERS.recorded_values(args.env_file)
        known = {
            logins.reader: values.get("MOODLE_MYSQL_READER_PASSWORD"),
            logins.builder: values.get("MOODLE_MYSQL_BUILDER_PASSWORD"),
            logins.bi: values.get("MOODLE_MYSQL_BI_PASSWORD"),
        }
        with connect(admin, read_only=False) as connection:
            passwords = create_site_logins(connection, args.database, logins, known)
        SERVERS.add_to_env_file(args.env_file, logins.env(passwords))
        say(
            f"logins {logins.reader} (SELECT on {args.database}), {logins.builder} (writes "
            f"{logins.analytics_database}) and {logins.bi} (reads the marts once built) ready; "
            f"in {args.env_file}"
        )
    return 0


def check_duckdb_mysql(prefix: str = "mdl_", environ: dict[str, str] | None = None) -> list[str]:
    """Check both logins of the duckdb_mysql target; one line per finding."""
    source = MySQLSettings.from_env(SOURCE_PREFIX, environ=environ)
    output = MySQLSettings.from_env(OUTPUT_PREFIX, SOURCE_PREFIX, environ=environ)
    bi_roles = bi_roles_from((environ or os.environ).get("MOODLE_MYSQL_BI_ROLES", ""))
    with connect(source) as connection:
        tables, optional = check_reads_moodle(connection, source, prefix)
    with connect_output(output) as connection:
        check_writes_database(connection, output, bi_roles)
    lines = [
        f"source {source.describe()}: reads {tables} Moodle tables ({prefix}*), attached read-only",
        f"output {output.describe()}: may create and fill the database {output.dbname}"
        + (f" and grant them to {', '.join(bi_roles)}" if bi_roles else ""),
    ]
    return lines + ([optional_tables_line(optional)] if optional else [])


def cmd_check(args: argparse.Namespace) -> int:
    for line in check_duckdb_mysql(args.prefix, SERVERS.environ(args.env_file)):
        say(f"duckdb_mysql: {line}")
    say("duckdb_mysql: connection settings OK")
    return 0


def _add_prefix(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prefix",
        type=cli_options.identifier,
        default=cli_options.MOODLE_PREFIX,
        help="table prefix of the Moodle tables",
    )


def build_parser() -> argparse.ArgumentParser:
    parser, add = SERVERS.parser(__doc__)
    SERVERS.add_server_commands(add, DEFAULT_DATABASE, cmd_status)
    load = add("load", "load the Moodle tables and create the site's logins", cmd_load)
    SERVERS.add_load_options(load)
    load.add_argument(
        "--database",
        type=cli_options.identifier,
        default=DEFAULT_DATABASE,
        help="Moodle's database",
    )
    _add_prefix(load)
    load.add_argument(
        "--logins",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="(re)create the reader, builder and BI logins and save them in the env file",
    )
    logins = SiteLogins()
    load.add_argument("--reader", default=logins.reader, help="login reading Moodle's database")
    load.add_argument("--builder", default=logins.builder, help="login writing the marts")
    load.add_argument("--bi", default=logins.bi, help="login reading the marts only")
    load.add_argument(
        "--analytics-database",
        type=cli_options.identifier,
        default=logins.analytics_database,
        help="the database of the duckdb_mysql marts",
    )

    check = add("check", "check the logins of the duckdb_mysql target", cmd_check)
    SERVERS.add_check_env_file(check)
    _add_prefix(check)
    return parser


def main(argv: list[str] | None = None) -> int:
    errors = (MariaDBError, LoadError, RoleError, MySQLSettingsError, ExtensionError)
    return SERVERS.run(build_parser().parse_args(argv), errors, duckdb.Error, "MySQL")


if __name__ == "__main__":
    sys.exit(main())
