"""The pseudonym secret: where it is made, kept and read, and the pseudonyms it gives.

A learner's id in the marts is the SHA-256 of the hexadecimal UTF-8 bytes of a
site's secret, ':' and the Moodle user id (macros/pseudonymous_id.sql computes the
same in SQL; docs/privacy.md says why it cannot be reversed without the secret).
The secret comes from MOODLE_PSEUDONYM_SECRET, else from a file outside the
repository that `moodle-pseudonym-secret` writes on first use (mode 0600). The demo
site carries its own random secret as the front page's idnumber, so a fresh clone
builds without one; no other site ever falls back to a default.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from moodle_analytics import cli_options

PROG = "moodle-pseudonym-secret"
SECRET_VARIABLE = "MOODLE_PSEUDONYM_SECRET"
SECRET_FILE_VARIABLE = "MOODLE_PSEUDONYM_SECRET_FILE"
MINIMUM_SECRET_LENGTH = 32
# The front page's idnumber on the demo site: this prefix and 64 hex digits.
DEMO_MARKER_PREFIX = "moodle-analytics-demo:"
DEMO_MARKER = re.compile(re.escape(DEMO_MARKER_PREFIX) + "([0-9a-f]{64})")


class SecretError(Exception):
    """A pseudonym secret that cannot be used, with what to do about it."""


def new_secret() -> str:
    """256 random bits as 64 hex digits."""
    return secrets.token_hex(32)


def demo_marker(secret: str) -> str:
    """The front page idnumber that marks a generated demo site and carries its secret."""
    return DEMO_MARKER_PREFIX + secret


def secret_from_marker(idnumber: str | None) -> str | None:
    """The demo site's secret from its front page idnumber, or None on any other site."""
    match = DEMO_MARKER.fullmatch(idnumber or "")
    return match.group(1) if match else None


def secret_file() -> Path:
    """Where the secret is kept: MOODLE_PSEUDONYM_SECRET_FILE, else the user's config directory."""
    if os.environ.get(SECRET_FILE_VARIABLE):
        return Path(os.environ[SECRET_FILE_VARIABLE])
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "moodle-analytics" / "pseudonym_secret"


def check_secret(secret: str, origin: str) -> str:
    if len(secret) < MINIMUM_SECRET_LENGTH:
        raise SecretError(
            f"{origin} holds a pseudonym secret of {len(secret)} characters; "
            f"it needs at least {MINIMUM_SECRET_LENGTH}"
        )
    return secret


def kept_secret(path: Path) -> str:
    """The secret kept in `path`, written there first (mode 0600) when the file is absent."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_new_secret(path)
        secret = path.read_text().strip()
    except OSError as problem:
        reason = problem.strerror or problem
        raise SecretError(f"cannot keep the pseudonym secret in {path}: {reason}") from None
    return check_secret(secret, str(path))


def _write_new_secret(path: Path) -> None:
    """A new secret in `path` (mode 0600), unless another first run wrote one just before."""
    try:
        # O_EXCL: two first runs at once never write two secrets.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as kept:
        kept.write(new_secret() + "\n")


def site_secret(kept_in: Path | None = None) -> str:
    """The secret a build uses: MOODLE_PSEUDONYM_SECRET, else the kept file (made on first use)."""
    if os.environ.get(SECRET_VARIABLE):
        return check_secret(os.environ[SECRET_VARIABLE], SECRET_VARIABLE)
    return kept_secret(kept_in or secret_file())


def build_secret(front_page_idnumber: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The secret a dbt build of a site uses (macros/pseudonymous_id.sql): the variable,
    else the demo site's own; no other site has one without the variable."""
    if environ.get(SECRET_VARIABLE):
        return check_secret(environ[SECRET_VARIABLE], SECRET_VARIABLE)
    demo = secret_from_marker(front_page_idnumber)
    if demo is None:
        raise SecretError(
            f"no pseudonym secret: set {SECRET_VARIABLE} (moodle-pseudonym-secret makes one)"
        )
    return demo


def pseudonym(secret: str, user_id: int) -> str:
    """A Moodle user's learner_id (staff_id) under `secret`, as the models compute it."""
    key = secret.encode("utf-8").hex()
    return hashlib.sha256(f"{key}:{int(user_id)}".encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = cli_options.parser(
        PROG,
        (
            "Print the pseudonym secret of this site's builds: MOODLE_PSEUDONYM_SECRET if set, "
            "else the one kept in ~/.config/moodle-analytics/pseudonym_secret (or "
            "MOODLE_PSEUDONYM_SECRET_FILE), made there on first use. "
            'Use: export MOODLE_PSEUDONYM_SECRET="$(moodle-pseudonym-secret)"'
        ),
    )
    parser.add_argument(
        "--path", action="store_true", help="print where the secret is kept instead"
    )
    parser.add_argument(
        "--file",
        type=Path,
        default=None,
        help="keep the secret in this file (default: MOODLE_PSEUDONYM_SECRET_FILE, else "
        "~/.config/moodle-analytics/pseudonym_secret)",
    )
    options = parser.parse_args(argv)
    if options.path:
        print(options.file or secret_file())
        return 0
    try:
        print(site_secret(options.file))
    except SecretError as problem:
        return cli_options.fail(PROG, problem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
