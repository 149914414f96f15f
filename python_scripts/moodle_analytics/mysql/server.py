"""A private MariaDB server for tests and local use.

Each server lives in its own temporary directory: data directory, unix socket,
error log. mariadb-install-db creates the system tables, then mariadbd runs as
the current OS user (``--user`` names it, which MariaDB requires of root),
listening on 127.0.0.1 only, on a free port, with utf8mb4 and
utf8mb4_unicode_ci as Moodle asks, and durability off (the server only ever
holds copies that can be reloaded). An init file creates the administrator
login with a generated password; there is no anonymous login and no test
database.

    with MariaDBServer() as server:
        subprocess.run(["dbt", "build"], env={**os.environ, **server.env()})

Servers this module did not start are never touched: stop() only acts on a
directory holding its marker file, and signals only the pid its server wrote.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb

from moodle_analytics.moodle_db import local_server
from moodle_analytics.moodle_db.duckdb_files import process_is_running
from moodle_analytics.moodle_db.local_server import LOOPBACK, free_port, port_is_free
from moodle_analytics.mysql.check import (
    SOURCE_PREFIX,
    MySQLSettings,
    MySQLSettingsError,
    connect,
    execute,
    mysql_literal,
    quote,
)

MARKER_FILE = "moodle-analytics-mysql.json"
DEFAULT_ENV_FILE = Path("data/mysql.env")
DEFAULT_DATABASE = "moodle"
DEFAULT_ADMIN = "moodle_admin"
PACKAGE = "mariadb-server"

# A throwaway server: speed over durability, loopback only, Moodle's character set.
SERVER_OPTIONS = (
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--default-time-zone=+00:00",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--innodb-buffer-pool-size=256M",
    "--innodb-log-file-size=256M",
    "--skip-log-bin",
    "--max-connections=100",
)


class MariaDBError(RuntimeError):
    """A private server could not be set up, started or stopped."""


def find_programs() -> tuple[Path, Path] | None:
    """mariadb-install-db and mariadbd (Debian keeps the server in /usr/sbin)."""
    install_db = shutil.which("mariadb-install-db")
    server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/libexec")
    if install_db and server:
        return Path(install_db), Path(server)
    return None


def install_mariadb() -> None:
    """apt-get install the MariaDB server; MariaDBError with the reason if impossible."""
    hint = f"install the MariaDB server (Debian/Ubuntu: sudo apt-get install -y {PACKAGE})"
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or not apt:
        raise MariaDBError(
            f"MariaDB server programs (mariadb-install-db, mariadbd) not found; {hint}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", PACKAGE]
    result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        # Stale package lists are the usual cause; refresh once and retry.
        subprocess.run([apt, "update", "-q"], capture_output=True, text=True, env=env)
        result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise MariaDBError(f"`apt-get install -y {PACKAGE}` failed:\n{tail}")


def require_programs(install: bool = True) -> tuple[Path, Path]:
    programs = find_programs()
    if programs is None and install:
        install_mariadb()
        programs = find_programs()
    if programs is None:
        raise MariaDBError(
            "MariaDB server programs (mariadb-install-db, mariadbd) not found on PATH or in "
            f"/usr/sbin; install {PACKAGE}"
        )
    return programs


class MariaDBServer:
    """One private MariaDB server: start(), stop(), connection settings.

    ``persistent=False`` (the default) stops the server when the Python process
    exits, should the caller forget; the CLI passes True to leave it running.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        database: str | None = DEFAULT_DATABASE,
        admin: str = DEFAULT_ADMIN,
        password: str | None = None,
        base_dir: str | Path | None = None,
        install: bool = True,
        persistent: bool = False,
    ):
        self.host = LOOPBACK
        self.port = port
        self.requested_port = port
        self.database = database
        self.admin = admin
        self.password = password or secrets.token_urlsafe(24)
        self.base_dir = Path(base_dir) if base_dir else None
        self.install = install
        self.persistent = persistent
        self.root: Path | None = None

    # -- paths -------------------------------------------------------------------
    def _root(self) -> Path:
        if self.root is None:
            raise MariaDBError("server not started")
        return self.root

    @property
    def data_dir(self) -> Path:
        return self._root() / "data"

    @property
    def socket(self) -> Path:
        return self._root() / "mariadb.sock"

    @property
    def pid_file(self) -> Path:
        return self._root() / "mariadb.pid"

    @property
    def log_file(self) -> Path:
        return self._root() / "mariadb.log"

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> MariaDBServer:
        if self.root is not None:
            raise MariaDBError(f"server already started in {self.root}")
        if self.requested_port is not None and not port_is_free(self.requested_port):
            raise MariaDBError(
                f"port {self.requested_port} on {LOOPBACK} is already in use; "
                "choose another port or leave it out to pick a free one"
            )
        install_db, mariadbd = require_programs(self.install)
        self.root = Path(tempfile.mkdtemp(prefix="moodle-mysql-", dir=self.base_dir))
        if not self.persistent:
            atexit.register(self.stop)
        try:
            marker = {"pid": os.getpid(), "created": time.time()}
            (self.root / MARKER_FILE).write_text(json.dumps(marker))
            self._install_db(install_db)
            self._start_server(mariadbd)
            if self.database:
                self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def _install_db(self, install_db: Path) -> None:
        command = [
            str(install_db),
            "--no-defaults",
            f"--user={getpass.getuser()}",
            f"--datadir={self.data_dir}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
            "--skip-name-resolve",
        ]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            raise MariaDBError(
                f"mariadb-install-db failed (exit {result.returncode}):\n{result.stderr[-2000:]}"
            )

    def _init_file(self) -> Path:
        """SQL mariadbd runs at start: the administrator login, no anonymous ones."""
        account = f"{mysql_literal(self.admin)}@'%'"
        path = self._root() / "init.sql"
        path.write_text(
            "DELETE FROM mysql.global_priv WHERE User = '';\n"
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {mysql_literal(self.password)};\n"
            f"GRANT ALL PRIVILEGES ON *.* TO {account} WITH GRANT OPTION;\n"
        )
        path.chmod(0o600)
        return path

    def _start_server(self, mariadbd: Path) -> None:
        attempts = 1 if self.requested_port is not None else 5
        for attempt in range(attempts):
            self.port = self.requested_port or free_port()
            command = [
                str(mariadbd),
                "--no-defaults",
                f"--user={getpass.getuser()}",
                f"--datadir={self.data_dir}",
                f"--socket={self.socket}",
                f"--pid-file={self.pid_file}",
                f"--log-error={self.log_file}",
                f"--bind-address={LOOPBACK}",
                f"--port={self.port}",
                f"--init-file={self._init_file()}",
                *SERVER_OPTIONS,
            ]
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.root,
                start_new_session=True,
            )
            if self._wait_ready(process):
                return
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            if "Address already in use" in log and attempt + 1 < attempts:
                # Another process took the port between probe and bind.
                self.log_file.unlink(missing_ok=True)
                continue
            tail = "\n".join(log.strip().splitlines()[-15:])
            raise MariaDBError(f"MariaDB did not start:\n--- {self.log_file} ---\n{tail}")

    def _wait_ready(self, process: subprocess.Popen, timeout: float = 60.0) -> bool:
        """True once the administrator can log in; False if the server exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(MySQLSettingsError):
                connect(self.settings()).close()
                return True
            time.sleep(0.2)
        if process.poll() is None:
            process.kill()
        return False

    def pid(self) -> int | None:
        """The pid of the running server, from its own pid file."""
        if self.root is None:
            return None
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if process_is_running(pid) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call twice."""
        root = self.root
        if root is None:
            return
        if not (root / MARKER_FILE).exists():
            raise MariaDBError(f"{root} was not created by moodle-mysql; leaving it alone")
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.pid() is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
        self.root = None
        atexit.unregister(self.stop)

    def __enter__(self) -> MariaDBServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- connecting --------------------------------------------------------------
    def settings(
        self, user: str | None = None, password: str | None = None, database: str | None = None
    ) -> MySQLSettings:
        """A login on this server (the administrator's unless ``user`` is given), in
        ``database`` (default: the system database, which always exists)."""
        environ = self.env(SOURCE_PREFIX)
        if user is not None:
            environ.update({"MOODLE_MYSQL_USER": user, "MOODLE_MYSQL_PASSWORD": password or ""})
        environ["MOODLE_MYSQL_DBNAME"] = database or "mysql"
        return MySQLSettings.from_env(SOURCE_PREFIX, environ=environ)

    def connect(self, **login) -> duckdb.DuckDBPyConnection:
        """DuckDB with this server attached (writable) as ``mysql``."""
        return connect(self.settings(**login), read_only=False)

    def create_database(self, name: str) -> None:
        """Create a database as Moodle's installer wants it: utf8mb4_unicode_ci."""
        with self.connect() as connection:
            execute(
                connection,
                f"CREATE DATABASE IF NOT EXISTS {quote(name)} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            )

    def env(self, prefix: str = SOURCE_PREFIX) -> dict[str, str]:
        """The <prefix>_* variables of the administrator's login (dbt, moodle-mysql)."""
        return {
            f"{prefix}_HOST": self.host,
            f"{prefix}_PORT": str(self.port),
            f"{prefix}_USER": self.admin,
            f"{prefix}_PASSWORD": self.password,
            f"{prefix}_DBNAME": self.database or DEFAULT_DATABASE,
        }

    # -- env file: how the CLI finds a server it started earlier ------------------
    def write_env_file(self, path: str | Path, extra: dict[str, str] | None = None) -> None:
        values = {**self.env(), "MOODLE_MYSQL_ROOT": str(self._root()), **(extra or {})}
        write_env_file(path, values)

    @classmethod
    def from_env_file(cls, path: str | Path) -> MariaDBServer:
        """The server an earlier ``moodle-mysql start`` recorded in ``path``."""
        values = read_env_file(path)
        try:
            server = cls(
                int(values["MOODLE_MYSQL_PORT"]),
                database=values["MOODLE_MYSQL_DBNAME"],
                admin=values["MOODLE_MYSQL_USER"],
                password=values["MOODLE_MYSQL_PASSWORD"],
                persistent=True,
                install=False,
            )
            server.root = Path(values["MOODLE_MYSQL_ROOT"])
        except (KeyError, ValueError) as error:
            raise MariaDBError(f"{path} is not a moodle-mysql env file: {error}") from None
        return server


def write_env_file(path: str | Path, values: dict[str, str]) -> None:
    """Shell ``export`` lines, readable by the owner only (they hold passwords)."""
    local_server.write_env_file(
        path, values, "moodle-analytics private MariaDB server; written by moodle-mysql"
    )


def read_env_file(path: str | Path) -> dict[str, str]:
    try:
        return local_server.read_env_file(path)
    except FileNotFoundError:
        raise MariaDBError(f"{path} not found; start a server with `moodle-mysql start`") from None
