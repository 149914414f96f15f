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

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb

from moodle_analytics.moodle_db.duckdb_files import process_is_running
from moodle_analytics.moodle_db.local_server import (
    LOOPBACK,
    LocalServer,
    apt_install,
    found_or_installed,
)
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
PID_FILE = "mariadb.pid"  # in the server's directory, written by mariadbd
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
    failure = apt_install(apt, PACKAGE)
    if failure is not None:
        raise MariaDBError(f"`apt-get install -y {PACKAGE}` failed:\n{failure[1]}")


def require_programs(install: bool = True) -> tuple[Path, Path]:
    programs = found_or_installed(find_programs, install_mariadb, install)
    if programs is None:
        raise MariaDBError(
            "MariaDB server programs (mariadb-install-db, mariadbd) not found on PATH or in "
            f"/usr/sbin; install {PACKAGE}"
        )
    return programs


class MariaDBServer(LocalServer):
    """One private MariaDB server: start(), stop(), connection settings.

    ``persistent=False`` (the default) stops the server when the Python process
    exits, should the caller forget; the CLI passes True to leave it running.
    """

    error = MariaDBError
    server_name = "MariaDB"
    command = "moodle-mysql"
    env_prefix = "MOODLE_MYSQL"
    marker_file = MARKER_FILE
    default_env_file = DEFAULT_ENV_FILE
    package = PACKAGE
    log_name = "mariadb.log"
    default_user = DEFAULT_ADMIN
    programs: tuple[Path, Path] | None = None  # mariadb-install-db, mariadbd

    # -- paths -------------------------------------------------------------------
    @property
    def socket(self) -> Path:
        return self._root() / "mariadb.sock"

    # -- lifecycle ---------------------------------------------------------------
    def _find_programs(self) -> None:
        self.programs = require_programs(self.install)

    def _set_up(self) -> None:
        install_db, _ = self.programs
        self._install_db(install_db)
        self._start_on_a_free_port()
        if self.database:
            self.create_database(self.database)

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
        account = f"{mysql_literal(self.user)}@'%'"
        path = self._root() / "init.sql"
        path.write_text(
            "DELETE FROM mysql.global_priv WHERE User = '';\n"
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {mysql_literal(self.password)};\n"
            f"GRANT ALL PRIVILEGES ON *.* TO {account} WITH GRANT OPTION;\n"
        )
        path.chmod(0o600)
        return path

    def _launch(self) -> tuple[str, bool] | None:
        _, mariadbd = self.programs
        command = [
            str(mariadbd),
            "--no-defaults",
            f"--user={getpass.getuser()}",
            f"--datadir={self.data_dir}",
            f"--socket={self.socket}",
            f"--pid-file={self._root() / PID_FILE}",
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
            return None
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        tail = "\n".join(log.strip().splitlines()[-15:])
        message = f"MariaDB did not start:\n--- {self.log_file} ---\n{tail}"
        return message, "Address already in use" in log

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
            pid = int((self._root() / PID_FILE).read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if process_is_running(pid) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _stop_process(self) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.pid() is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

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
            f"{prefix}_USER": self.user,
            f"{prefix}_PASSWORD": self.password,
            f"{prefix}_DBNAME": self.database or DEFAULT_DATABASE,
        }


# The env file's lines, as moodle-mysql writes and reads them.
write_env_file = MariaDBServer.write_env_values
read_env_file = MariaDBServer.read_env_values
