"""moodle-messages: personalised messages for the action lists.

Reads a list (reminders, upgrade or next-course) from the marts of a dbt target
(the DuckDB warehouse, or PostgreSQL for the postgres and duckdb_pg targets), renders
one message per learner from an editable template, and writes the messages
as .eml files ready to send (--out) and/or sends them through the SMTP server
the MOODLE_SMTP_* environment variables name (--send). The lists carry names
and e-mail addresses only when the project was built with include_pii: true.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from moodle_analytics import cli_options
from moodle_analytics.dashboard.warehouse import Target, add_target_options, target_from_args
from moodle_analytics.messages import delivery, lists, templates

PROG = "moodle-messages"


def build_parser() -> argparse.ArgumentParser:
    parser = cli_options.parser(
        PROG,
        __doc__.split("\n\n")[1].replace("\n", " "),
        epilog=delivery.__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--list", choices=sorted(lists.LISTS), help="which list")
    parser.add_argument("--out", type=Path, help="write <out>/<list>/*.eml and manifest.csv")
    parser.add_argument("--send", action="store_true", help="send through MOODLE_SMTP_* server")
    add_target_options(parser)
    parser.add_argument("--schema", default="analytics_actions", help="schema of the lists")
    parser.add_argument(
        "--templates", type=Path, help="directory of <list>.txt templates (default: built-in)"
    )
    parser.add_argument(
        "--write-templates", type=Path, metavar="DIR", help="write the default templates to edit"
    )
    parser.add_argument(
        "--site-url",
        default=os.environ.get("MOODLE_SITE_URL", ""),
        help="Moodle address put before activity links (default: $MOODLE_SITE_URL)",
    )
    parser.add_argument("--site-name", help="name of the site in messages (default: its host)")
    parser.add_argument(
        "--timezone",
        type=cli_options.time_zone,
        default="UTC",
        help="time zone of dates for a recipient without a valid one of their own (default: UTC)",
    )
    return parser


def check_paths(args: argparse.Namespace) -> Target:
    """The warehouse and templates are there, --out can be written, before any work;
    returns the target whose marts to read."""
    target = target_from_args(args)
    if args.templates is not None:
        cli_options.input_directory(args.templates, "--templates")
    if args.out is not None:
        cli_options.output_directory(args.out, "--out")
    return target


def write_default_templates(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in lists.LISTS:
        path = directory / f"{name}.txt"
        if not path.exists():
            path.write_text(templates.default_template_text(name), encoding="utf-8")
            written.append(path)
    return written


def render_messages(
    spec: lists.ListSpec,
    recipients: list[lists.Recipient],
    template_set: templates.TemplateSet,
    formatting: lists.Formatting,
    site_name: str,
    sender: str,
) -> tuple[list[tuple[str, object]], list[delivery.Outcome]]:
    """Messages for recipients with an address, each in their language (where a template
    exists) and time zone; the others as skipped outcomes."""
    messages, skipped = [], []
    for recipient in recipients:
        if not recipient.email or "@" not in recipient.email:
            skipped.append(
                delivery.Outcome(recipient.learner_id, "", "", "skipped: no e-mail address")
            )
            continue
        local = formatting.in_zone(recipient.timezone)
        items = [spec.item(row, local) for row in recipient.rows]
        fields = {
            "first_name": recipient.first_name or recipient.full_name or "learner",
            "full_name": recipient.full_name or "",
            "item_count": str(len(items)),
            "site_name": site_name,
        }
        subject, body = template_set.for_language(recipient.language).render(fields, items)
        message = delivery.compose(
            sender, recipient.full_name, recipient.email, subject, body, spec.name
        )
        messages.append((recipient.learner_id, message))
    return messages, skipped


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.write_templates:
        try:
            cli_options.output_directory(args.write_templates, "--write-templates")
            written = write_default_templates(args.write_templates)
        except (cli_options.InputError, OSError) as error:
            return cli_options.fail(PROG, error)
        print(f"{PROG}: {len(written)} template(s) written to {args.write_templates}")
        return 0
    if not args.list:
        parser.error("--list is required (reminders, upgrade or next-course)")
    if not (args.out or args.send):
        parser.error("say what to do with the messages: --out DIR, --send, or both")
    spec = lists.LISTS[args.list]
    site_name = args.site_name or urlparse(args.site_url).hostname or "Moodle"
    formatting = lists.Formatting(args.site_url, args.timezone)
    try:
        target = check_paths(args)
        settings = delivery.SmtpSettings.from_env(os.environ) if args.send else None
        sender = settings.sender if settings else os.environ.get("MOODLE_SMTP_FROM", "")
        sender = sender or f"noreply@{urlparse(args.site_url).hostname or 'localhost'}"
        template_set = templates.load_set(spec.name, args.templates)
        for template in template_set.all():
            template.check(set(templates.RECIPIENT_FIELDS), set(item_fields(spec, formatting)))
        recipients = lists.group_by_learner(lists.read_rows(target, args.schema, spec))
        if recipients and not any(recipient.email for recipient in recipients):
            raise lists.ListError(
                f"{spec.table} has no e-mail addresses: build the lists with "
                "include_pii: true (`make messages` does: the action and outreach lists)"
            )
        messages, skipped = render_messages(
            spec, recipients, template_set, formatting, site_name, sender
        )
        written = delivery.write_files(args.out, spec.name, messages) if args.out else []
        sent = delivery.send(settings, messages) if settings else []
        for sent_outcome, written_outcome in zip(sent, written, strict=False):
            sent_outcome.file = written_outcome.file
        outcomes = skipped + (sent or written)
        if args.out:
            delivery.write_manifest(args.out, spec.name, outcomes)
    except (
        cli_options.InputError,
        lists.ListError,
        templates.TemplateError,
        delivery.DeliveryError,
        OSError,
    ) as error:
        return cli_options.fail(PROG, error)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        status = outcome.status.split(":")[0]
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(
        f"{PROG}: {spec.name}: {len(recipients)} learner(s), "
        f"{len(messages)} message(s){': ' + summary if summary else ''}"
        f"{email_stopped_note(recipients)}"
    )
    return 1 if counts.get("refused") else 0


def email_stopped_note(recipients: list[lists.Recipient]) -> str:
    """How many learners the list left out for having turned e-mail off in Moodle."""
    left_out = max(
        (row.get("email_stopped_left_out") or 0 for r in recipients for row in r.rows), default=0
    )
    return f"; {left_out} left out: e-mail turned off in Moodle" if left_out else ""


def item_fields(spec: lists.ListSpec, formatting: lists.Formatting) -> dict:
    """The item placeholders a list provides, from a row of empty values."""
    row = dict.fromkeys(spec.columns)
    row.update(days_left=0, hours_left=0, activity_url_path="", course_id=0, is_retake=False)
    return spec.item(row, formatting)


if __name__ == "__main__":
    sys.exit(main())
