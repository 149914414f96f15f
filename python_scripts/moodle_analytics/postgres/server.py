"""A private PostgreSQL cluster for tests and local use.

Each cluster lives in its own temporary directory: data directory, unix socket and
server log. It listens on 127.0.0.1 only, on a free port, and every connection needs
the generated superuser password (scram-sha-256). Durability is switched off (fsync,
full_page_writes) because the cluster only ever holds copies that can be reloaded.

    with PostgresServer() as server:
        conn = server.connect()
        subprocess.run(["dbt", "build"], env={**os.environ, **server.env()})

Running as root, initdb and the server run as the ``postgres`` OS user (PostgreSQL
refuses to run as root); as any other user they run as that user. Servers this
module did not start are never touched: stop() only acts on a directory holding
its marker file.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql

from moodle_analytics.moodle_db.duckdb_files import process_is_running
from moodle_analytics.moodle_db.local_server import (
    LOOPBACK,
    LocalServer,
    apt_install,
    found_or_installed,
)

MARKER_FILE = "moodle-analytics-pg.json"
DEFAULT_ENV_FILE = Path("data/postgres.env")
DEFAULT_DATABASE = "moodle"
DEFAULT_SUPERUSER = "postgres"

# Settings for a throwaway cluster: speed over durability, loopback only.
SERVER_SETTINGS = {
    "listen_addresses": LOOPBACK,
    "password_encryption": "scram-sha-256",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Minimal WAL: bulk loads into new tables skip most WAL writing.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "shared_buffers": "256MB",
    "maintenance_work_mem": "512MB",
    "work_mem": "64MB",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "logging_collector": "off",
}


class PostgresError(RuntimeError):
    """A private cluster could not be set up, started or stopped."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_bindir() -> Path | None:
    """Directory holding initdb, pg_ctl and postgres, newest version first."""
    override = os.environ.get("MOODLE_PG_BINDIR")
    if override:
        return Path(override)
    # Debian keeps server binaries off PATH, one directory per major version.
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    return None


def install_postgresql() -> None:
    """apt-get install the PostgreSQL server; PostgresError with the reason if impossible."""
    hint = "install the PostgreSQL server (Debian/Ubuntu: sudo apt-get install -y postgresql)"
    if os.geteuid() != 0:
        raise PostgresError(f"PostgreSQL server binaries (initdb, pg_ctl) not found; {hint}")
    apt = shutil.which("apt-get")
    if not apt:
        raise PostgresError(
            f"PostgreSQL server binaries (initdb, pg_ctl) not found and apt-get is missing; {hint}"
        )
    failure = apt_install(apt, "postgresql")
    if failure is not None:
        status, tail = failure
        raise PostgresError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found and "
            f"`apt-get install -y postgresql` failed (exit {status}):\n{tail}"
        )


def require_bindir(install: bool = True) -> Path:
    bindir = found_or_installed(find_bindir, install_postgresql, install)
    if bindir is None:
        raise PostgresError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin, "
            "pg_config --bindir or PATH; install the PostgreSQL server or set MOODLE_PG_BINDIR"
        )
    for program in ("initdb", "pg_ctl", "postgres"):
        if not (bindir / program).exists():
            raise PostgresError(f"{bindir / program} is missing; is the server package complete?")
    return bindir


def _run_as_prefix() -> tuple[list[str], pwd.struct_passwd | None]:
    """Command prefix that runs PostgreSQL programs as a non-root user."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresError(
            "running as root, but there is no `postgres` OS user to run the server as "
            "(the Debian postgresql package creates it)"
        ) from None
    runuser = shutil.which("runuser")
    if not runuser:
        raise PostgresError("running as root, but runuser (util-linux) is missing")
    return [runuser, "-u", "postgres", "--"], account


class PostgresServer(LocalServer):
    """One private PostgreSQL cluster: start(), stop(), connection settings.

    ``persistent=False`` (the default) stops the server when the Python process
    exits, should the caller forget; the CLI passes True to leave it running.
    ``settings`` are added to (or replace) SERVER_SETTINGS.
    """

    error = PostgresError
    server_name = "PostgreSQL"
    command = "moodle-pg"
    env_prefix = "MOODLE_PG"
    marker_file = MARKER_FILE
    default_env_file = DEFAULT_ENV_FILE
    package = "postgresql"
    log_name = "postgres.log"
    default_user = DEFAULT_SUPERUSER

    def __init__(
        self, port: int | None = None, *, settings: dict[str, str] | None = None, **options
    ):
        super().__init__(port, **options)
        self.settings = {**SERVER_SETTINGS, **(settings or {})}
        self.bindir: Path | None = None
        self.run_as: tuple[list[str], pwd.struct_passwd | None] = ([], None)

    @property
    def superuser(self) -> str:
        return self.user

    # -- paths -------------------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        return self._root()

    # -- lifecycle ---------------------------------------------------------------
    def _find_programs(self) -> None:
        self.bindir = require_bindir(self.install)
        self.run_as = _run_as_prefix()

    def _set_up(self) -> None:
        self._initdb(*self.run_as)
        self._start_on_a_free_port()
        if self.database:
            self._create_database(self.database)

    def _initdb(self, prefix: list[str], account: pwd.struct_passwd | None) -> None:
        root = self._root()
        root.chmod(0o700)
        password_file = root / "pwfile"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if account:
            for path in (root, password_file, root / MARKER_FILE):
                os.chown(path, account.pw_uid, account.pw_gid)
            # tempfile's directory must be reachable by the postgres user too.
            probe = subprocess.run([*prefix, "test", "-w", str(root)], capture_output=True)
            if probe.returncode != 0:
                raise PostgresError(
                    f"the postgres OS user cannot enter {root}; pass base_dir (--base-dir) "
                    "in a directory every user can traverse, such as /tmp"
                )
        command = [
            *prefix,
            str(self.bindir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            self.superuser,
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]
        result = subprocess.run(command, capture_output=True, text=True, cwd=root)
        password_file.unlink()
        if result.returncode != 0:
            raise PostgresError(f"initdb failed (exit {result.returncode}):\n{result.stderr}")
        # Passwords everywhere; no trust or peer logins.
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# moodle-analytics private cluster\n"
            "local all all scram-sha-256\n"
            f"host all all {LOOPBACK}/32 scram-sha-256\n"
        )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude 'moodle_analytics.conf'\n")
        if account:
            os.chown(hba, account.pw_uid, account.pw_gid)

    def _write_settings(self, account: pwd.struct_passwd | None) -> None:
        settings = {
            **self.settings,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
        }
        lines = [f"{key} = '{value}'" for key, value in settings.items()]
        path = self.data_dir / "moodle_analytics.conf"
        path.write_text("\n".join(lines) + "\n")
        if account:
            os.chown(path, account.pw_uid, account.pw_gid)

    def _launch(self) -> tuple[str, bool] | None:
        prefix, account = self.run_as
        self._write_settings(account)
        command = [
            *prefix,
            str(self.bindir / "pg_ctl"),
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
            "--wait",
            "--timeout",
            "60",
            "start",
        ]
        # Output to a file, not a pipe: the daemonised server must not hold our pipe.
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=output, cwd=self.root
            )
            output.seek(0)
            pg_ctl_output = output.read()
        if result.returncode == 0:
            self._wait_ready()
            return None
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        if "could not bind" in log or "Address already in use" in log:
            return f"port {self.port} on {LOOPBACK} is already in use", True
        tail = "\n".join(log.strip().splitlines()[-15:])
        message = (
            f"PostgreSQL did not start (pg_ctl exit {result.returncode}):\n"
            f"{pg_ctl_output.strip()}\n--- {self.log_file} ---\n{tail}"
        )
        return message, False

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.dsn("postgres"), connect_timeout=5).close()
                return
            except psycopg2.OperationalError as error:
                if time.monotonic() > deadline:
                    raise PostgresError(
                        f"server on port {self.port} not answering: {error}"
                    ) from None
                time.sleep(0.1)

    def _create_database(self, name: str) -> None:
        conn = self.connect("postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()

    def postmaster_pid(self) -> int | None:
        if self.root is None:
            return None
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and process_is_running(pid)

    def _stop_process(self) -> None:
        if self.is_running():
            self._pg_ctl_stop()

    def _pg_ctl_stop(self) -> None:
        prefix, _ = _run_as_prefix()
        bindir = self.bindir or require_bindir(install=False)
        for mode in ("fast", "immediate"):
            result = subprocess.run(
                [
                    *prefix,
                    str(bindir / "pg_ctl"),
                    "--pgdata",
                    str(self.data_dir),
                    "--mode",
                    mode,
                    "--wait",
                    "--timeout",
                    "30",
                    "stop",
                ],
                capture_output=True,
                text=True,
                cwd=self.root,
            )
            if result.returncode == 0 or not self.is_running():
                return
        # Last resort, aimed only at the postmaster recorded in our own data directory.
        pid = self.postmaster_pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    # -- connecting --------------------------------------------------------------
    def dsn(
        self, database: str | None = None, user: str | None = None, password: str | None = None
    ) -> str:
        """libpq key=value connection string (psycopg2, psql, DuckDB ATTACH)."""
        if user is None:
            user, password = self.superuser, password or self.password
        parts = {
            "host": self.host,
            "port": str(self.port),
            "dbname": database or self.database or "postgres",
            "user": user,
        }
        if password is not None:
            parts["password"] = password
        return " ".join(f"{key}={_libpq_quote(value)}" for key, value in parts.items())

    def url(self, database: str | None = None) -> str:
        return (
            f"postgresql://{self.superuser}:{self.password}@{self.host}:{self.port}/"
            f"{database or self.database or 'postgres'}"
        )

    def connect(self, database: str | None = None, **kwargs):
        """psycopg2 connection as the superuser (or user=/password= given)."""
        user = kwargs.pop("user", None)
        password = kwargs.pop("password", None)
        return psycopg2.connect(self.dsn(database, user, password), **kwargs)

    def env(self, libpq: bool = True) -> dict[str, str]:
        """Environment for dbt (MOODLE_PG_*) and, with libpq, for psql and other clients."""
        values = {
            "MOODLE_PG_HOST": self.host,
            "MOODLE_PG_PORT": str(self.port),
            "MOODLE_PG_USER": self.superuser,
            "MOODLE_PG_PASSWORD": self.password,
            "MOODLE_PG_DBNAME": self.database or "postgres",
        }
        if libpq:
            values.update(
                PGHOST=self.host,
                PGPORT=str(self.port),
                PGUSER=self.superuser,
                PGPASSWORD=self.password,
                PGDATABASE=self.database or "postgres",
            )
        return values

    def _restored(self, values: dict[str, str]) -> None:
        self.host = values.get("MOODLE_PG_HOST", LOOPBACK)
        self.bindir = find_bindir()


def _libpq_quote(value: str) -> str:
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# The env file's lines, as moodle-pg writes and reads them.
write_env_file = PostgresServer.write_env_values
read_env_file = PostgresServer.read_env_values
