"""moodle-messages: templates, SMTP settings, and delivery to a local SMTP server.

The delivery tests start a small SMTP server on the loopback interface (written
here with the standard library) and send the demo's lists to it; the expected
recipients, names and due dates come from the demo's Moodle tables.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import socketserver
import subprocess
import sys
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from moodle_analytics.messages import delivery, lists, templates
from moodle_analytics.messages.cli import item_fields
from test_actions_helpers import compile_models, query_compiled
from test_actions_programmes import learner_courses
from test_actions_reminders import EARLIER_MOMENT, NAMED_EARLIER, epoch_of, expected_reminders

SITE_URL = "https://moodle.example.edu"
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret pass"
LIST_TABLES = {
    "reminders": "fct_deadline_reminders",
    "upgrade": "rpt_outreach_upgrade_track",
    "next-course": "rpt_outreach_next_course",
}


# ---------------------------------------------------------------- SMTP server


class SmtpHandler(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib: EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def read_line(self) -> str:
        return self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")

    def handle(self) -> None:
        server = self.server
        server.connections += 1
        sender, recipients = None, []
        self.reply("220 localhost test SMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250-AUTH PLAIN LOGIN")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "AUTH":
                parts = line.split()
                if parts[1].upper() == "PLAIN":
                    _, user, password = base64.b64decode(parts[2]).decode().split("\0")
                else:
                    self.reply("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.read_line()).decode()
                    self.reply("334 UGFzc3dvcmQ6")
                    password = base64.b64decode(self.read_line()).decode()
                if (user, password) == (SMTP_USER, SMTP_PASSWORD):
                    server.logins.append(user)
                    self.reply("235 2.7.0 Authentication successful")
                else:
                    self.reply("535 5.7.8 Authentication credentials invalid")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (row := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(row[1:] if row.startswith(b"..") else row)
                server.received.append((sender, recipients, b"".join(data)))
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.received: list[tuple[str, list[str], bytes]] = []
        self.connections = 0
        self.logins: list[str] = []

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(data, policy=email.policy.default)
            for _sender, _recipients, data in self.received
        ]


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def smtp_env(server: SmtpServer) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MOODLE_SMTP_HOST="127.0.0.1",
        MOODLE_SMTP_PORT=str(server.server_address[1]),
        MOODLE_SMTP_USER=SMTP_USER,
        MOODLE_SMTP_PASSWORD=SMTP_PASSWORD,
        MOODLE_SMTP_FROM="Learning Support <support@example.edu>",
        MOODLE_SMTP_TLS="none",
    )
    return env


def run_messages(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "moodle_analytics.messages", *args],
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )


# ---------------------------------------------------------------- lists with names


def write_lists(path: Path, frames: dict[str, pd.DataFrame]) -> Path:
    """A warehouse holding only the given lists, as dbt would write them."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists analytics_actions")
        for table, frame in frames.items():
            connection.register("frame", frame)
            connection.execute(
                f"create or replace table analytics_actions.{table} as select * from frame"
            )
            connection.unregister("frame")
    return path


@pytest.fixture(scope="module")
def named_lists(built_demo) -> dict[str, pd.DataFrame]:
    """The three lists with contact fields: reminders a week before the demo's moment."""
    compiled = compile_models(built_demo, NAMED_EARLIER)
    return {table: query_compiled(built_demo, compiled[table]) for table in LIST_TABLES.values()}


@pytest.fixture(scope="module")
def named_warehouse(named_lists, tmp_path_factory) -> Path:
    return write_lists(tmp_path_factory.mktemp("warehouse") / "lists.duckdb", named_lists)


@pytest.fixture(scope="module")
def moodle_reminders(built_demo) -> pd.DataFrame:
    with built_demo.connect() as connection:
        return expected_reminders(connection, epoch_of(EARLIER_MOMENT), 7)


def due_text(epoch: int) -> str:
    moment = datetime.fromtimestamp(int(epoch), UTC)
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M} UTC"


def test_every_learner_with_a_reminder_gets_one_message_with_their_name_and_dates(
    smtp_server, named_warehouse, moodle_reminders
):
    result = run_messages(
        "--list", "reminders", "--send", "--warehouse", str(named_warehouse),
        "--site-url", SITE_URL, env=smtp_env(smtp_server),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert moodle_reminders.groupby("learner_course_id").email.nunique().max() == 1
    per_learner = moodle_reminders.groupby("email")
    received = {message["To"].addresses[0].addr_spec: message for message in smtp_server.messages()}
    assert len(smtp_server.received) == per_learner.ngroups > 100
    assert set(received) == set(per_learner.groups)
    assert smtp_server.connections == 1 and smtp_server.logins == [SMTP_USER]
    for address, rows in per_learner:
        message = received[address]
        body = message.get_content().replace("\r\n", "\n")
        assert (
            message["To"].addresses[0].display_name
            == f"{rows.firstname.iloc[0]} {rows.lastname.iloc[0]}"
        )
        assert body.startswith(f"Dear {rows.firstname.iloc[0]},")
        for row in rows.itertuples():
            assert f"due {due_text(row.due)}" in body
            assert f"{SITE_URL}/mod/{row.module}/view.php?id={row.activity_id}\n" in body
        assert body.count(f"{SITE_URL}/mod/") == len(rows)
    assert f"{len(received)} sent" in result.stdout


def test_outreach_lists_reach_exactly_the_learners_moodle_gives(
    built_demo, smtp_server, named_warehouse
):
    with built_demo.connect() as connection:
        moment = int(
            connection.execute(
                "select max(timecreated) from moodle.public.mdl_logstore_standard_log "
                "where timecreated <= epoch(current_timestamp) + 86400"
            ).fetchone()[0]
        )
        courses = learner_courses(connection, moment)
    addresses = dict(zip(courses.learner_id, courses.email, strict=False))
    first_names = dict(zip(courses.email, courses.firstname, strict=False))
    for list_name, table in (
        ("upgrade", "rpt_outreach_upgrade_track"),
        ("next-course", "rpt_outreach_next_course"),
    ):
        smtp_server.received.clear()
        result = run_messages(
            "--list",
            list_name,
            "--send",
            "--warehouse",
            str(named_warehouse),
            env=smtp_env(smtp_server),
        )
        assert result.returncode == 0, result.stderr
        listed = built_demo.frame(f"select distinct learner_id from analytics_actions.{table}")
        want = {addresses[learner] for learner in listed.learner_id}
        got = [message["To"].addresses[0].addr_spec for message in smtp_server.messages()]
        assert len(got) == len(want) > 10, list_name
        assert set(got) == want, list_name
        for message in smtp_server.messages():
            address = message["To"].addresses[0].addr_spec
            assert message.get_content().startswith(f"Dear {first_names[address]},")


def test_nothing_is_sent_when_the_list_is_empty(named_lists, smtp_server, tmp_path):
    empty = named_lists["fct_deadline_reminders"].iloc[0:0]
    warehouse = write_lists(tmp_path / "empty.duckdb", {"fct_deadline_reminders": empty})
    result = run_messages(
        "--list", "reminders", "--send", "--out", str(tmp_path / "out"),
        "--warehouse", str(warehouse), env=smtp_env(smtp_server),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert smtp_server.received == [] and smtp_server.connections == 0
    assert list((tmp_path / "out" / "reminders").glob("*.eml")) == []
    assert "0 message(s)" in result.stdout


def test_files_ready_to_send_and_learners_without_an_address_are_reported(
    named_lists, moodle_reminders, tmp_path
):
    reminders = named_lists["fct_deadline_reminders"].copy()
    missing = sorted(reminders.learner_id.unique())[0]
    reminders.loc[reminders.learner_id == missing, "email"] = None
    # Rows without a time zone of their own: dates in --timezone's.
    reminders["timezone"] = None
    warehouse = write_lists(tmp_path / "lists.duckdb", {"fct_deadline_reminders": reminders})
    result = run_messages(
        "--list", "reminders", "--out", str(tmp_path / "out"), "--warehouse", str(warehouse),
        "--timezone", "Europe/Paris",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "out" / "reminders"
    files = sorted(folder.glob("*.eml"))
    learners = moodle_reminders.email.nunique()
    assert len(files) == learners - 1
    manifest = pd.read_csv(folder / "manifest.csv")
    assert len(manifest) == learners
    assert manifest.loc[manifest.learner_id == missing, "status"].item().startswith("skipped")
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["From"] and message["Message-ID"] and message["Subject"]
    assert " CET" in message.get_content() or " CEST" in message.get_content()


def test_a_list_built_without_personal_data_is_refused_with_the_fix(built_demo):
    result = run_messages(
        "--list", "upgrade", "--out", "/nonexistent", "--warehouse", str(built_demo.warehouse)
    )
    assert result.returncode == 2
    assert "include_pii: true" in result.stderr


# ---------------------------------------------------------------- templates and settings


def test_default_templates_use_only_the_placeholders_their_list_provides():
    formatting = lists.Formatting(SITE_URL)
    for name, spec in lists.LISTS.items():
        template = templates.load(name)
        template.check(set(templates.RECIPIENT_FIELDS), set(item_fields(spec, formatting)))


def test_an_unknown_placeholder_or_a_missing_section_is_a_clear_error(tmp_path):
    (tmp_path / "reminders.txt").write_text(
        "[subject]\nHi $first_name\n[body]\n$items\n[item]\n- $activity_nme\n"
    )
    template = templates.load("reminders", tmp_path)
    fields = set(item_fields(lists.LISTS["reminders"], lists.Formatting()))
    with pytest.raises(
        templates.TemplateError, match=r"\$activity_nme.*known there: activity_link"
    ):
        template.check(set(templates.RECIPIENT_FIELDS), fields)
    with pytest.raises(templates.TemplateError, match="missing section"):
        templates.parse("[subject]\nHi\n[body]\nText\n", "t.txt")
    with pytest.raises(templates.TemplateError, match="no template"):
        templates.load("upgrade", tmp_path)


def test_a_template_renders_one_line_per_item():
    template = templates.parse(
        "# comment\n[subject]\nHello  $first_name\n[body]\nDear $first_name,\n$items\n"
        "[item]\n* $activity_name costs $$5\n",
        "t.txt",
    )
    subject, body = template.render(
        {"first_name": "Ana"}, [{"activity_name": "Quiz 1"}, {"activity_name": "Essay"}]
    )
    assert subject == "Hello Ana"
    assert body == "Dear Ana,\n* Quiz 1 costs $5\n* Essay costs $5\n"


def test_each_recipient_gets_their_language_where_a_template_exists_and_their_time_zone(
    tmp_path,
):
    """fr has its own template, pt_br falls back to pt's, de (none) to the default; dates
    are in the recipient's time zone, or --timezone's for a value that is not a zone."""
    from moodle_analytics.messages.cli import render_messages

    item = "[item]\n- $activity_name $due_date\n"
    (tmp_path / "reminders.txt").write_text(f"[subject]\nDue soon\n[body]\n$items\n{item}")
    (tmp_path / "reminders.fr.txt").write_text(f"[subject]\nBientot\n[body]\n$items\n{item}")
    (tmp_path / "reminders.pt.txt").write_text(f"[subject]\nEm breve\n[body]\n$items\n{item}")
    row = {
        "activity_name": "Essay",
        "activity_type": "assign",
        "activity_url_path": "/mod/assign/view.php?id=1",
        "course_name": "C",
        "course_short_name": "C",
        "days_left": 1,
        "hours_left": 30,
        "due_at": datetime(2026, 3, 11, 23, 30),
        "opens_at": None,
    }
    people = {
        "fr": ("fr", "Europe/Paris"),
        "pt": ("pt_br", "America/Sao_Paulo"),
        "de": ("de", "Asia/Tokyo"),
        "old": ("en", "5.5"),
    }
    recipients = [
        lists.Recipient(key, key, key, f"{key}@example.edu", [row], language=lang, timezone=zone)
        for key, (lang, zone) in people.items()
    ]
    messages, skipped = render_messages(
        lists.LISTS["reminders"],
        recipients,
        templates.load_set("reminders", tmp_path),
        lists.Formatting(SITE_URL, lists.ZoneInfo("UTC")),
        "Moodle",
        "noreply@example.edu",
    )
    assert not skipped
    got = {key: (m["Subject"], m.get_content()) for key, m in messages}
    assert got["fr"][0] == "Bientot" and "Thursday 12 March 2026, 00:30 CET" in got["fr"][1]
    assert got["pt"][0] == "Em breve" and "Wednesday 11 March 2026, 20:30 -03" in got["pt"][1]
    assert got["de"][0] == "Due soon" and "Thursday 12 March 2026, 08:30 JST" in got["de"][1]
    assert got["old"][0] == "Due soon" and "Wednesday 11 March 2026, 23:30 UTC" in got["old"][1]


def test_smtp_settings_come_from_the_environment_with_clear_errors():
    settings = delivery.SmtpSettings.from_env(
        {"MOODLE_SMTP_HOST": "smtp.example.edu", "MOODLE_SMTP_FROM": "a@example.edu"}
    )
    assert (settings.port, settings.tls, settings.user) == (587, "starttls", None)
    ssl_settings = delivery.SmtpSettings.from_env(
        {"MOODLE_SMTP_HOST": "h", "MOODLE_SMTP_FROM": "a@b.c", "MOODLE_SMTP_TLS": "SSL"}
    )
    assert (ssl_settings.port, ssl_settings.tls) == (465, "ssl")
    with pytest.raises(delivery.DeliveryError) as error:
        delivery.SmtpSettings.from_env(
            {"MOODLE_SMTP_TLS": "maybe", "MOODLE_SMTP_USER": "u", "MOODLE_SMTP_PORT": "x"}
        )
    for problem in (
        "MOODLE_SMTP_HOST",
        "MOODLE_SMTP_FROM",
        "MOODLE_SMTP_TLS",
        "MOODLE_SMTP_PASSWORD",
        "MOODLE_SMTP_PORT",
    ):
        assert problem in str(error.value)
    secret = delivery.SmtpSettings.from_env(
        {"MOODLE_SMTP_HOST": "h", "MOODLE_SMTP_FROM": "a@b.c", "MOODLE_SMTP_USER": "u",
         "MOODLE_SMTP_PASSWORD": "topsecret"}
    )  # fmt: skip
    assert secret.password == "topsecret" and "topsecret" not in repr(secret)


def test_due_phrases_and_percentages():
    assert [lists.due_in(d, h) for d, h in ((3, 80), (1, 30), (0, 5), (0, 0))] == [
        "in 3 days",
        "in 1 day",
        "within 6 hours",
        "within the hour",
    ]
    assert (lists.percent(0.625), lists.percent(None), lists.percent(float("nan"))) == (
        "63",
        "",
        "",
    )


def test_sending_to_an_unreachable_server_is_an_error_not_a_crash(named_warehouse):
    env = dict(os.environ)
    env.update(
        MOODLE_SMTP_HOST="127.0.0.1",
        MOODLE_SMTP_PORT="1",
        MOODLE_SMTP_FROM="a@b.c",
        MOODLE_SMTP_TLS="none",
    )
    result = run_messages(
        "--list", "upgrade", "--send", "--warehouse", str(named_warehouse), env=env
    )
    assert result.returncode == 2
    assert "cannot reach 127.0.0.1:1" in result.stderr
