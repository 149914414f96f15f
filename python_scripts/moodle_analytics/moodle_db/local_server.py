"""What the private database servers share (PostgreSQL in postgres/server.py,
MariaDB in mysql/server.py): a free loopback port, installing the server package,
the lifecycle of a server in its own directory (LocalServer), and the env file of
shell export lines in which a command line records a server it started."""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self, TypeVar

LOOPBACK = "127.0.0.1"
Found = TypeVar("Found")


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Nothing listens on the port. Connections of a stopped server may linger
    in TIME_WAIT; servers bind with SO_REUSEADDR, and so does the probe."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (the server binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def write_env_file(path: str | Path, values: dict[str, str], header: str) -> None:
    """Shell ``export`` lines, readable by the owner only (they hold passwords)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {header}; source it."]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in values.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    path.chmod(0o600)


def read_env_file(path: str | Path) -> dict[str, str]:
    """The variables of an env file's export lines; FileNotFoundError if there is none."""
    values: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            values[key] = value
    return values


def found_or_installed(
    find: Callable[[], Found | None], install_package: Callable[[], None], install: bool
) -> Found | None:
    """What find() finds, after installing the server's package when it finds nothing and
    ``install`` is true; None if still nothing."""
    found = find()
    if found is None and install:
        install_package()
        found = find()
    return found


def apt_install(apt: str, package: str) -> tuple[int, str] | None:
    """``apt-get install -y package``, refreshing the package lists once if it fails
    (stale lists are the usual cause). None when installed, else apt-get's exit status
    and the last lines of its output."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", package]
    result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        subprocess.run([apt, "update", "-q"], capture_output=True, text=True, env=env)
        result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode == 0:
        return None
    return result.returncode, "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])


class LocalServer:
    """One private server in its own temporary directory: the lifecycle every engine's
    server shares (start on a free port, a marker file so that stop() only ever removes
    what it made, the env file a command line records it in). A subclass names its
    engine in the class attributes and fills in the hooks: _find_programs, _set_up,
    _launch (one try at one port), _stop_process, env."""

    error: type[RuntimeError] = RuntimeError
    server_name = ""  # in messages: "MariaDB", "PostgreSQL"
    command = ""  # the command line that records servers: "moodle-mysql"
    env_prefix = ""  # of the env file's variables: "MOODLE_MYSQL"
    marker_file = ""
    default_env_file = Path()  # where the command line records the server
    package = ""  # the Debian package of the server's programs
    log_name = ""  # the server's log, in its directory
    default_user = ""  # the administrator's login

    def __init__(
        self,
        port: int | None = None,
        *,
        database: str | None = "moodle",
        user: str | None = None,
        password: str | None = None,
        base_dir: str | Path | None = None,
        install: bool = True,
        persistent: bool = False,
    ):
        self.host = LOOPBACK
        self.port = port
        self.requested_port = port
        self.database = database
        self.user = user or self.default_user
        self.password = password or secrets.token_urlsafe(24)
        self.base_dir = Path(base_dir) if base_dir else None
        self.install = install
        self.persistent = persistent
        self.root: Path | None = None

    def _root(self) -> Path:
        if self.root is None:
            raise self.error("server not started")
        return self.root

    @property
    def data_dir(self) -> Path:
        return self._root() / "data"

    @property
    def log_file(self) -> Path:
        return self._root() / self.log_name

    # -- hooks -------------------------------------------------------------------
    def _find_programs(self) -> None:
        """Find (or install) the server's programs, before any directory is made."""
        raise NotImplementedError

    def _set_up(self) -> None:
        """Create the data directory, start the server, create the database."""
        raise NotImplementedError

    def _launch(self) -> tuple[str, bool] | None:
        """Start the server on self.port: None once it answers, else what went wrong and
        whether the port was taken (then another port is tried)."""
        raise NotImplementedError

    def _stop_process(self) -> None:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> Self:
        if self.root is not None:
            raise self.error(f"server already started in {self.root}")
        if self.requested_port is not None and not port_is_free(self.requested_port):
            raise self.error(
                f"port {self.requested_port} on {LOOPBACK} is already in use; "
                "choose another port or leave it out to pick a free one"
            )
        self._find_programs()
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.command}-", dir=self.base_dir))
        if not self.persistent:
            atexit.register(self.stop)
        try:
            # Written before anything else so stop() may clean up after a failed start.
            marker = {"pid": os.getpid(), "created": time.time()}
            (self.root / self.marker_file).write_text(json.dumps(marker))
            self._set_up()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_on_a_free_port(self) -> None:
        attempts = 1 if self.requested_port is not None else 5
        for attempt in range(attempts):
            self.port = self.requested_port or free_port()
            failure = self._launch()
            if failure is None:
                return
            message, port_taken = failure
            if port_taken and attempt + 1 < attempts:
                # Another process took the port between probe and bind.
                self.log_file.unlink(missing_ok=True)
                continue
            raise self.error(message)

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call twice."""
        root = self.root
        if root is None:
            return
        if not (root / self.marker_file).exists():
            raise self.error(f"{root} was not created by {self.command}; leaving it alone")
        self._stop_process()
        shutil.rmtree(root, ignore_errors=True)
        self.root = None
        atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- env file: how the command line finds a server it started earlier ---------
    def write_env_file(self, path: str | Path, extra: dict[str, str] | None = None) -> None:
        root = {f"{self.env_prefix}_ROOT": str(self._root())}
        self.write_env_values(path, {**self.env(), **root, **(extra or {})})

    @classmethod
    def write_env_values(cls, path: str | Path, values: dict[str, str]) -> None:
        """Shell ``export`` lines, readable by the owner only (they hold passwords)."""
        header = f"moodle-analytics private {cls.server_name} server; written by {cls.command}"
        write_env_file(path, values, header)

    @classmethod
    def read_env_values(cls, path: str | Path) -> dict[str, str]:
        try:
            return read_env_file(path)
        except FileNotFoundError:
            hint = f"start a server with `{cls.command} start`"
            raise cls.error(f"{path} not found; {hint}") from None

    @classmethod
    def from_env_file(cls, path: str | Path) -> Self:
        """The server an earlier ``<command> start`` recorded in ``path``."""
        values = cls.read_env_values(path)
        prefix = cls.env_prefix
        try:
            server = cls(
                int(values[f"{prefix}_PORT"]),
                database=values[f"{prefix}_DBNAME"],
                user=values[f"{prefix}_USER"],
                password=values[f"{prefix}_PASSWORD"],
                persistent=True,
                install=False,
            )
            server.root = Path(values[f"{prefix}_ROOT"])
        except (KeyError, ValueError) as error:
            raise cls.error(f"{path} is not a {cls.command} env file: {error}") from None
        server._restored(values)
        return server

    def _restored(self, values: dict[str, str]) -> None:
        """What a subclass takes from the env file beyond the login."""
