"""From the report's words back to Moodle's event classes and ids.

(Component, Event name) pairs map to event classes through the event
catalogue (seeds/moodle_event_catalogue.csv). A pair the catalogue does not
hold, such as an event name in another language, becomes the class
\\unknown\\event\\<component>__<event name> with crud and edulevel guessed
from words (see classify_unknown), so that no row is lost.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from moodle_analytics.event_catalogue import EventType, load_event_catalogue
from moodle_analytics.logs_report.descriptions import (
    GENERIC_PATTERNS,
    OLDER_TEMPLATES,
    TEACHING_WORDS,
    TEMPLATES,
    crud_from_words,
    description_verb,
    template_fields,
    template_pattern,
)
from moodle_analytics.logs_report.report_format import (
    CATEGORY_CONTEXT_PREFIXES,
    COURSE_CONTEXT_PREFIXES,
    FRONT_PAGE_CONTEXT_NAMES,
    MODULE_BY_DISPLAY_NAME,
    OTHER_CONTEXT_NAMES,
    SYSTEM_CONTEXT_NAMES,
    USER_CONTEXT_PREFIXES,
    normalise_name,
    slug,
)

UNKNOWN_PREFIX = "\\unknown\\event\\"
ID_COLUMNS = ("userid", "relateduserid", "courseid", "cmid", "objectid")


@dataclass(frozen=True)
class ContextName:
    """What the Event context column names: kind plus module and name where given."""

    kind: str  # system, front_page, course, module, user, category, other, unknown
    module: str | None = None
    name: str | None = None


def parse_context(text: str) -> ContextName:
    plain = text.strip()
    lowered = plain.casefold()
    if lowered in SYSTEM_CONTEXT_NAMES:
        return ContextName("system")
    if lowered in FRONT_PAGE_CONTEXT_NAMES:
        return ContextName("front_page")
    if lowered in OTHER_CONTEXT_NAMES or plain in ("", "-"):
        return ContextName("other")
    match = re.match(r"^([^:]+?)\s*:\s?(.*)$", plain, flags=re.DOTALL)
    if not match:
        return ContextName("unknown", name=plain)
    prefix, name = match.group(1).strip().casefold(), match.group(2).strip()
    if prefix in COURSE_CONTEXT_PREFIXES:
        return ContextName("course", name=name)
    if prefix in USER_CONTEXT_PREFIXES:
        return ContextName("user", name=name)
    if prefix in CATEGORY_CONTEXT_PREFIXES:
        return ContextName("category", name=name)
    module = MODULE_BY_DISPLAY_NAME.get(prefix) or slug(prefix).replace("_", "")
    return ContextName("module", module=module, name=name)


class EventMapper:
    """Maps the report's (Component, Event name) to catalogue event types.

    A few pairs name several classes (a user or a group override, a course or a
    category recycle bin item, a blog or a competency comment): the one whose
    class name's words the Description holds wins (see best_of)."""

    def __init__(self, catalogue: dict[str, EventType] | None = None):
        self.catalogue = catalogue or load_event_catalogue()
        self.by_pair: dict[tuple[str, str], list[EventType]] = {}
        self.by_name: dict[str, list[EventType]] = {}
        self.component_names: dict[str, str] = {}
        for event in sorted(self.catalogue.values(), key=lambda e: e.event_name):
            name = normalise_name(event.display_name)
            component = normalise_name(event.component_display_name)
            self.by_pair.setdefault((component, name), []).append(event)
            self.by_name.setdefault(name, []).append(event)
            self.component_names.setdefault(component, event.component)

    def candidates(self, component: str, event_name: str) -> list[EventType]:
        return self.by_pair.get((normalise_name(component), normalise_name(event_name)), [])

    def classify(self, component: str, event_name: str, context_module: str | None):
        """The event type (the first of several, see best_of), or None when the
        catalogue does not know the pair."""
        found = self.candidates(component, event_name)
        if found:
            return found[0]
        # The component may be spelled differently (another Moodle version or
        # language); a name that fits one class, or one class of the module the
        # context names, still identifies it.
        candidates = self.by_name.get(normalise_name(event_name), [])
        if len(candidates) == 1:
            return candidates[0]
        in_module = [e for e in candidates if e.component == f"mod_{context_module}"]
        return in_module[0] if len(in_module) == 1 else None

    @staticmethod
    def best_of(candidates: list[EventType], description: str) -> EventType:
        """Of classes sharing a name, the one whose class name's words (group_override_
        created: group, override) the Description holds most."""
        text = description.casefold()

        def score(event: EventType) -> int:
            words = event.event_name.rsplit("\\", 1)[-1].split("_")
            return sum(word in text for word in words if word != event.action)

        return max(candidates, key=score)

    def component_of(self, component_text: str) -> str:
        """Moodle's component for a Component column value it shows."""
        key = normalise_name(component_text)
        if key in self.component_names:
            return self.component_names[key]
        if key in SYSTEM_CONTEXT_NAMES:
            return "core"
        module = MODULE_BY_DISPLAY_NAME.get(key)
        return f"mod_{module}" if module else slug(component_text)


def unknown_class_name(component_text: str, event_name: str) -> str:
    return f"{UNKNOWN_PREFIX}{slug(component_text)}__{slug(event_name)}"


def classify_unknown(
    event_name: str, description: str, context_kind: str
) -> tuple[str, str, int, str]:
    """(crud, action, edulevel, target) guessed for an event the catalogue lacks.

    crud comes from the event name's words in English, French, Spanish or
    German, else from the English description's verb, else 'r'. edulevel is 1
    (teaching) for grading words, 2 (participating) for an event in a course
    or activity context whose kind is known, else 0.
    """
    verb = description_verb(description)
    crud = crud_from_words(event_name) or crud_from_words(verb) or None
    words = f"{event_name} {verb}".casefold()
    if any(word in words for word in TEACHING_WORDS):
        edulevel = 1
    elif crud is not None and context_kind in ("course", "module", "front_page"):
        edulevel = 2
    else:
        edulevel = 0
    return crud or "r", verb or slug(event_name), edulevel, ""


def _id(text: str | None) -> float:
    """Digits as a float; obfuscated (x) or missing ids as NaN."""
    return float(text) if text and text.isdigit() else float("nan")


MODULE_FIELDS = ("objecttable", "modname", "other_modulename")
GENERIC = {column: re.compile(pattern) for column, pattern in GENERIC_PATTERNS.items()}


def parse_descriptions(descriptions: pd.Series, classes: pd.Series) -> pd.DataFrame:
    """Ids and other values of each Description, read by its class's template.

    Columns: userid, relateduserid, courseid, cmid, objectid (floats, NaN
    where absent or masked), objectkey (the object id as written, masked or
    not: 'x98' still tells two submissions apart), module (activity module
    named in the sentence), other (JSON of the other_ values), templated (the
    class's template matched) and actor_in_text (the sentence names the acting
    user)."""
    texts = descriptions.to_numpy(dtype=object)
    count = len(texts)
    ids = {column: np.full(count, np.nan) for column in ID_COLUMNS}
    objectkey = np.full(count, None, dtype=object)
    module = np.full(count, None, dtype=object)
    other = np.full(count, None, dtype=object)
    templated = np.zeros(count, dtype=bool)
    actor_in_text = np.zeros(count, dtype=bool)
    # A plain loop over compiled patterns: far quicker than per-class pandas calls.
    for event_class, positions in classes.groupby(classes, sort=False).indices.items():
        template = TEMPLATES.get(event_class)
        if template is None:
            continue
        readers = [_TemplateReader(t) for t in (template, *OLDER_TEMPLATES.get(event_class, ()))]
        for position in positions:
            for reader in readers:
                values = reader.read(texts[position])
                if values is not None:
                    break
            else:
                continue
            for field in reader.id_fields:
                ids[field][position] = _id(values[field])
            if "objectid" in values:
                objectkey[position] = values["objectid"] or None
            if reader.module_field:
                module[position] = values[reader.module_field]
            if reader.other_fields:
                other[position] = json.dumps(
                    {f.removeprefix("other_"): _scalar(values[f]) for f in reader.other_fields}
                )
            templated[position] = True
            actor_in_text[position] = "userid" in reader.fields
    for position in np.flatnonzero(~templated):
        text = texts[position]
        for column, pattern in GENERIC.items():
            match = pattern.search(text)
            if match is None:
                continue
            if column == "modname":
                module[position] = match.group(1)
            else:
                ids[column][position] = _id(match.group(1))
        actor_in_text[position] = not np.isnan(ids["userid"][position])
    return pd.DataFrame(
        {
            **ids,
            "objectkey": objectkey,
            "module": module,
            "other": other,
            "templated": templated,
            "actor_in_text": actor_in_text,
        },
        index=descriptions.index,
    )


class _TemplateReader:
    """One Description template compiled, with the fields it names."""

    def __init__(self, template: str):
        self.pattern = template_pattern(template)
        self.fields = template_fields(template)
        self.id_fields = [f for f in self.fields if f in ID_COLUMNS]
        self.module_field = next((f for f in MODULE_FIELDS if f in self.fields), None)
        self.other_fields = [f for f in self.fields if f.startswith("other_")]

    def read(self, text: str) -> dict[str, str] | None:
        match = self.pattern.match(text)
        return None if match is None else match.groupdict()


def _scalar(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value
