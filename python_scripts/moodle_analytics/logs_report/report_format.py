"""What the Logs report download looks like: its columns, time formats and names.

Shared by the exporter (which writes downloads) and the loader (which reads
them), so that both sides agree on every spelling.
"""

from __future__ import annotations

import re
import unicodedata

# Column keys and the English header Moodle writes, in Moodle's order.
COLUMN_HEADERS: dict[str, str] = {
    "time": "Time",
    "user": "User full name",
    "affected": "Affected user",
    "context": "Event context",
    "component": "Component",
    "event": "Event name",
    "description": "Description",
    "origin": "Origin",
    "ip": "IP address",
}
COURSE_HEADER = "Course"  # first column of a site-level download
REQUIRED_COLUMNS = ("time", "user", "context", "component", "event", "description")

# Header spellings the loader accepts (compared after normalise_header); the
# French ones cover downloads made by a teacher whose Moodle speaks French.
HEADER_ALIASES: dict[str, str] = {
    "time": "time",
    "date": "time",
    "heure": "time",
    "user full name": "user",
    "nom complet de l'utilisateur": "user",
    "nom complet": "user",
    "affected user": "affected",
    "utilisateur concerné": "affected",
    "event context": "context",
    "contexte de l'événement": "context",
    "component": "component",
    "composant": "component",
    "event name": "event",
    "nom de l'événement": "event",
    "description": "description",
    "origin": "origin",
    "origine": "origin",
    "ip address": "ip",
    "adresse ip": "ip",
    "course": "course",
    "cours": "course",
}

# The three formats Moodle versions write (see times.py).
TIME_FORMAT_NO_YEAR = "%d %b, %H:%M"  # Moodle up to 2.9
TIME_FORMAT_MINUTES = "%d/%m/%y, %H:%M"  # Moodle 3.0 to 3.11
TIME_FORMAT_SECONDS = "%d/%m/%y, %H:%M:%S"  # Moodle 4.0 and later
TIME_FORMATS = (TIME_FORMAT_NO_YEAR, TIME_FORMAT_MINUTES, TIME_FORMAT_SECONDS)

MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip
# Month words a download may hold, lower case, without trailing dot.
MONTH_NUMBERS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        ("jan", "january", "janv", "janvier"),
        ("feb", "february", "févr", "fevr", "février", "fevrier"),
        ("mar", "march", "mars"),
        ("apr", "april", "avr", "avril"),
        ("may", "mai"),
        ("jun", "june", "juin"),
        ("jul", "july", "juil", "juillet"),
        ("aug", "august", "août", "aout"),
        ("sep", "sept", "september", "septembre"),
        ("oct", "october", "octobre"),
        ("nov", "november", "novembre"),
        ("dec", "december", "déc", "decembre", "décembre"),
    ],
    start=1,
):
    for _name in _names:
        MONTH_NUMBERS[_name] = _number

# Activity modules: Moodle's English plugin names, as the Event context and
# Component columns show them.
MODULE_DISPLAY_NAMES: dict[str, str] = {
    "assign": "Assignment",
    "bigbluebuttonbn": "BigBlueButton",
    "book": "Book",
    "chat": "Chat",
    "choice": "Choice",
    "data": "Database",
    "feedback": "Feedback",
    "folder": "Folder",
    "forum": "Forum",
    "glossary": "Glossary",
    "h5pactivity": "H5P",
    "imscp": "IMS content package",
    "label": "Text and media area",
    "lesson": "Lesson",
    "lti": "External tool",
    "page": "Page",
    "qbank": "Question bank",
    "quiz": "Quiz",
    "resource": "File",
    "scorm": "SCORM package",
    "subsection": "Subsection",
    "survey": "Survey",
    "url": "URL",
    "wiki": "Wiki",
    "workshop": "Workshop",
}
# Older and localised spellings of the same modules.
MODULE_BY_DISPLAY_NAME: dict[str, str] = {
    **{display.casefold(): module for module, display in MODULE_DISPLAY_NAMES.items()},
    "label": "label",
    "assignment 2.2": "assignment",
    "devoir": "assign",
    "test": "quiz",
    "fichier": "resource",
    "dossier": "folder",
    "leçon": "lesson",
    "outil externe": "lti",
}

SYSTEM_CONTEXT_NAMES = {"system", "système", "systeme"}
FRONT_PAGE_CONTEXT_NAMES = {"front page", "site home", "page d'accueil", "accueil du site"}
COURSE_CONTEXT_PREFIXES = {"course", "cours", "kurs", "curso", "corso"}
USER_CONTEXT_PREFIXES = {"user", "utilisateur", "nutzer/in", "usuario"}
CATEGORY_CONTEXT_PREFIXES = {"category", "catégorie", "kategorie", "categoría"}
OTHER_CONTEXT_NAMES = {"other", "autre"}
MASKED_NAMES = {"", "-"}


def normalise_header(text: str) -> str:
    """Header text compared case- and space-insensitively, typographic quotes made plain."""
    text = text.replace("\ufeff", "").replace("’", "'").strip().casefold()
    return re.sub(r"\s+", " ", text)


def normalise_name(text: str) -> str:
    """Event and component names compared loosely: case, spaces and a final dot ignored."""
    text = re.sub(r"\s+", " ", text.strip().casefold())
    return text[:-1] if text.endswith(".") else text


def slug(text: str) -> str:
    """ASCII lower-case words joined by _, e.g. 'Cours consulté' -> 'cours_consulte'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.casefold()).strip("_") or "unnamed"
