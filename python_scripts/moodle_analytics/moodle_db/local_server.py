"""What the private database servers share (PostgreSQL in postgres/server.py,
MariaDB in mysql/server.py): a free loopback port, and the env file of shell
export lines in which a command line records a server it started."""

from __future__ import annotations

import os
import shlex
import socket
from pathlib import Path

LOOPBACK = "127.0.0.1"


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
