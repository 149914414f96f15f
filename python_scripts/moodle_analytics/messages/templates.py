"""Editable message templates: a subject, a body and an item, with $placeholders.

A template file has three sections, each starting on a line of its own:

    [subject]
    Reminder: $item_count activities due soon
    [body]
    Dear $first_name,
    $items
    [item]
    - $activity_name, due $due_date

The body's $items is every item rendered and joined by newlines. Lines
starting with # before the first section are comments. Placeholders are
Python's string.Template ($name or ${name}; $$ for a dollar sign); a name the
list does not provide is an error that names it, never a silent blank.

A directory of templates may hold one per language beside the default:
reminders.fr.txt, reminders.pt_br.txt (Moodle's language codes). A recipient
gets the template of their language (user.lang), else of its main language
(pt for pt_br), else the default one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

SECTIONS = ("subject", "body", "item")
SECTION_LINE = re.compile(r"^\[(\w+)\]\s*$")
RECIPIENT_FIELDS = ("first_name", "full_name", "item_count", "site_name")


class TemplateError(ValueError):
    """A template that cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class MessageTemplate:
    source: str
    subject: Template
    body: Template
    item: Template

    def render(self, recipient: dict, items: list[dict]) -> tuple[str, str]:
        """(subject, body) for one recipient and their items."""
        rendered_items = [self._fill(self.item, item, "item") for item in items]
        fields = dict(recipient, items="\n".join(rendered_items))
        subject = " ".join(self._fill(self.subject, fields, "subject").split())
        return subject, self._fill(self.body, fields, "body").rstrip() + "\n"

    def check(self, recipient_fields: set[str], item_fields: set[str]) -> None:
        """Fail before anything is written when a placeholder is unknown."""
        for name, template, known in (
            ("subject", self.subject, recipient_fields),
            ("body", self.body, recipient_fields | {"items"}),
            ("item", self.item, item_fields),
        ):
            for placeholder in placeholders(template):
                if placeholder not in known:
                    raise TemplateError(
                        f"{self.source}: [{name}] uses ${placeholder}, which this list does not "
                        f"provide; known there: {', '.join(sorted(known))}"
                    )

    def _fill(self, template: Template, fields: dict, section: str) -> str:
        try:
            return template.substitute(fields)
        except KeyError as error:
            raise TemplateError(
                f"{self.source}: [{section}] uses ${error.args[0]}, which is not provided"
            ) from None
        except ValueError as error:
            raise TemplateError(f"{self.source}: [{section}]: {error}") from None


def placeholders(template: Template) -> set[str]:
    names = set()
    for match in template.pattern.finditer(template.template):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
        elif match.group("invalid") is not None:
            raise TemplateError(f"a lone $ in {template.template[:60]!r}: write $$ for a dollar")
    return names


def parse(text: str, source: str) -> MessageTemplate:
    sections: dict[str, list[str]] = {}
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = SECTION_LINE.match(line)
        if match:
            current = match.group(1)
            if current not in SECTIONS:
                raise TemplateError(
                    f"{source}:{number}: unknown section [{current}]; use {', '.join(SECTIONS)}"
                )
            if current in sections:
                raise TemplateError(f"{source}:{number}: section [{current}] appears twice")
            sections[current] = []
        elif current is None:
            if line.strip() and not line.startswith("#"):
                raise TemplateError(f"{source}:{number}: text before the first [section]")
        else:
            sections[current].append(line)
    missing = [name for name in SECTIONS if name not in sections]
    if missing:
        raise TemplateError(f"{source}: missing section(s) {', '.join(missing)}")
    subject = "\n".join(sections["subject"]).strip()
    if not subject or "\n" in subject:
        raise TemplateError(f"{source}: [subject] must be exactly one non-empty line")
    return MessageTemplate(
        source,
        Template(subject),
        Template("\n".join(sections["body"]).strip("\n")),
        Template("\n".join(sections["item"]).strip("\n")),
    )


def default_template_text(list_name: str) -> str:
    return resources.files(__package__).joinpath("templates", f"{list_name}.txt").read_text()


def load(list_name: str, directory: Path | None = None) -> MessageTemplate:
    """The template of a list: <directory>/<list>.txt when given, else the packaged one."""
    if directory is None:
        return parse(default_template_text(list_name), f"(default {list_name}.txt)")
    path = directory / f"{list_name}.txt"
    if not path.is_file():
        raise TemplateError(
            f"no template {path}; write the defaults there with --write-templates {directory}"
        )
    return parse(path.read_text(encoding="utf-8"), str(path))


@dataclass(frozen=True)
class TemplateSet:
    """A list's default template and its templates per language."""

    default: MessageTemplate
    by_language: dict[str, MessageTemplate]

    def for_language(self, language: str | None) -> MessageTemplate:
        code = (language or "").strip().lower()
        return (
            self.by_language.get(code) or self.by_language.get(code.split("_")[0]) or self.default
        )

    def all(self) -> list[MessageTemplate]:
        return [self.default, *self.by_language.values()]


def load_set(list_name: str, directory: Path | None = None) -> TemplateSet:
    """The default template of a list and, from the directory, its <list>.<lang>.txt ones."""
    by_language = {}
    if directory is not None:
        for path in sorted(directory.glob(f"{list_name}.*.txt")):
            language = path.name[len(list_name) + 1 : -len(".txt")].lower()
            by_language[language] = parse(path.read_text(encoding="utf-8"), str(path))
    return TemplateSet(load(list_name, directory), by_language)
