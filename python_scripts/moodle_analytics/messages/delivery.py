"""Messages as .eml files ready to send, or sent through SMTP.

The SMTP server is given only by environment variables, never by options or
files, so no password lands in a shell history or a repository:

    MOODLE_SMTP_HOST      server name (required to send)
    MOODLE_SMTP_PORT      port; default 587 with starttls, 465 with ssl, 25 with none
    MOODLE_SMTP_USER      login user (optional; with MOODLE_SMTP_PASSWORD)
    MOODLE_SMTP_PASSWORD  login password
    MOODLE_SMTP_FROM      sender address, e.g. "Learning Support <support@example.edu>" (required)
    MOODLE_SMTP_TLS       starttls (default), ssl or none
"""

from __future__ import annotations

import csv
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path

TLS_MODES = {"starttls": 587, "ssl": 465, "none": 25}


class DeliveryError(RuntimeError):
    """Settings or a server that make sending impossible; the message says which."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        host = env.get("MOODLE_SMTP_HOST", "").strip()
        sender = env.get("MOODLE_SMTP_FROM", "").strip()
        tls = env.get("MOODLE_SMTP_TLS", "starttls").strip().lower() or "starttls"
        user = env.get("MOODLE_SMTP_USER") or None
        password = env.get("MOODLE_SMTP_PASSWORD") or None
        problems = []
        if not host:
            problems.append("MOODLE_SMTP_HOST is not set")
        if not sender or "@" not in parseaddr(sender)[1]:
            problems.append("MOODLE_SMTP_FROM must be an address, e.g. support@example.edu")
        if tls not in TLS_MODES:
            problems.append(f"MOODLE_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        if bool(user) != bool(password):
            problems.append("set both MOODLE_SMTP_USER and MOODLE_SMTP_PASSWORD, or neither")
        port_text = env.get("MOODLE_SMTP_PORT", "").strip()
        port = TLS_MODES.get(tls, 25)
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                problems.append(f"MOODLE_SMTP_PORT must be a port number, not {port_text!r}")
            else:
                port = int(port_text)
        if problems:
            raise DeliveryError("cannot send: " + "; ".join(problems))
        return cls(host, port, sender, tls, user, password)


def compose(
    sender: str, to_name: str | None, to_address: str, subject: str, body: str, list_name: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((to_name or "", to_address))
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["X-Moodle-Analytics-List"] = list_name
    message.set_content(body)
    return message


@dataclass
class Outcome:
    """What happened to one recipient's message."""

    learner_id: str
    email: str
    subject: str
    status: str
    file: str = ""


def write_files(
    directory: Path, list_name: str, messages: list[tuple[str, EmailMessage]]
) -> list[Outcome]:
    """<directory>/<list>/<n>-<learner_id>.eml and a manifest.csv; old files there go first."""
    folder = directory / list_name
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("*.eml"), folder / "manifest.csv"]:
        old.unlink(missing_ok=True)
    outcomes = []
    for number, (learner_id, message) in enumerate(messages, start=1):
        path = folder / f"{number:05d}-{learner_id}.eml"
        path.write_bytes(bytes(message))
        outcomes.append(
            Outcome(
                learner_id, parseaddr(message["To"])[1], message["Subject"], "written", path.name
            )
        )
    return outcomes


def write_manifest(directory: Path, list_name: str, outcomes: list[Outcome]) -> Path:
    folder = directory / list_name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner_id", "email", "subject", "status", "file"])
        for outcome in outcomes:
            writer.writerow(
                [outcome.learner_id, outcome.email, outcome.subject, outcome.status, outcome.file]
            )
    return path


def send(settings: SmtpSettings, messages: list[tuple[str, EmailMessage]]) -> list[Outcome]:
    """Send over one connection; a refused recipient is recorded and the rest go on."""
    outcomes: list[Outcome] = []
    if not messages:
        return outcomes
    try:
        if settings.tls == "ssl":
            server = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=30, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=30)
    except OSError as error:
        raise DeliveryError(f"cannot reach {settings.host}:{settings.port}: {error}") from None
    with server:
        try:
            if settings.tls == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings.user:
                server.login(settings.user, settings.password or "")
        except smtplib.SMTPException as error:
            raise DeliveryError(
                f"{settings.host}:{settings.port} refused the session: {error}"
            ) from None
        for learner_id, message in messages:
            address = parseaddr(message["To"])[1]
            try:
                server.send_message(message)
                status = "sent"
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
                status = f"refused: {error}"
            outcomes.append(Outcome(learner_id, address, message["Subject"], status))
    return outcomes
