"""The Description column: Moodle's English sentence for each event class, both ways.

Each event class has a get_description() in Moodle that names the ids of the
event. TEMPLATES holds those sentences with placeholders; the exporter fills
them in, the loader turns them into regular expressions and reads the ids back.
Placeholders: userid, relateduserid, courseid, cmid, objectid, objecttable,
modname and other_<key> (a value of the event's `other` field).

Sentences of classes not listed here (or worded differently by another Moodle
version) are read with GENERIC_PATTERNS, which find the ids by their wording.
"""

from __future__ import annotations

import re
from functools import cache

VIEWED_ACTIVITY = "The user with id '{userid}' viewed the '{objecttable}' activity with course module id '{cmid}'."  # noqa: E501
INSTANCE_LIST_VIEWED = (
    "The user with id '{userid}' viewed the instance list for the module '{modname}' "
    "in the course with id '{courseid}'."
)
IN_ASSIGNMENT = "the assignment with course module id '{cmid}'."
IN_QUIZ = "for the quiz with course module id '{cmid}'."
IN_FORUM = "in the forum with course module id '{cmid}'."
BELONGING_TO = "the attempt with id '{objectid}' belonging to the user with id '{relateduserid}'"

TEMPLATES: dict[str, str] = {
    "\\core\\event\\user_loggedin": "The user with id '{userid}' has logged in.",
    "\\core\\event\\user_loggedout": "The user with id '{userid}' has logged out.",
    "\\core\\event\\user_loggedinas": (
        "The user with id '{userid}' has logged in as the user with id '{relateduserid}'."
    ),
    "\\core\\event\\user_login_failed": (
        "Login failed for the username '{other_username}' for the reason with id '{other_reason}'."
    ),
    "\\core\\event\\dashboard_viewed": "The user with id '{userid}' has viewed their dashboard",
    "\\core\\event\\user_profile_viewed": (
        "The user with id '{userid}' viewed the profile for the user with id '{relateduserid}' "
        "in the course with id '{courseid}'."
    ),
    "\\core\\event\\user_list_viewed": (
        "The user with id '{userid}' viewed the list of users in the course with id '{courseid}'."
    ),
    "\\core\\event\\course_viewed": (
        "The user with id '{userid}' viewed the course with id '{courseid}'."
    ),
    "\\core\\event\\course_user_report_viewed": (
        "The user with id '{userid}' viewed the user report in the course with id '{courseid}' "
        "for user with id '{relateduserid}'."
    ),
    "\\core\\event\\course_module_completion_updated": (
        "The user with id '{userid}' updated the completion state for the course module with id "
        "'{cmid}' for the user with id '{relateduserid}'."
    ),
    "\\core\\event\\course_completed": (
        "The user with id '{relateduserid}' completed the course with id '{courseid}'."
    ),
    "\\core\\event\\user_enrolment_created": (
        "The user with id '{userid}' enrolled the user with id '{relateduserid}' using the "
        "enrolment method '{other_enrol}' in the course with id '{courseid}'."
    ),
    "\\core\\event\\user_enrolment_updated": (
        "The user with id '{userid}' updated the enrolment for the user with id "
        "'{relateduserid}' in the course with id '{courseid}'."
    ),
    "\\core\\event\\user_enrolment_deleted": (
        "The user with id '{userid}' unenrolled the user with id '{relateduserid}' using the "
        "enrolment method '{other_enrol}' from the course with id '{courseid}'."
    ),
    "\\core\\event\\role_assigned": (
        "The user with id '{userid}' assigned the role with id '{objectid}' to the user with id "
        "'{relateduserid}'."
    ),
    "\\core\\event\\role_unassigned": (
        "The user with id '{userid}' unassigned the role with id '{objectid}' from the user "
        "with id '{relateduserid}'."
    ),
    "\\core\\event\\user_graded": (
        "The user with id '{userid}' updated the grade with id '{objectid}' for the user with "
        "id '{relateduserid}' for the grade item with id '{other_itemid}'."
    ),
    "\\core\\event\\grade_item_updated": (
        "The user with id '{userid}' updated a grade item with id '{objectid}' in the course "
        "with id '{courseid}'."
    ),
    "\\core\\event\\user_created": "The user with id '{userid}' created the user with id '{objectid}'.",  # noqa: E501
    "\\core\\event\\user_deleted": "The user with id '{userid}' deleted the user with id '{objectid}'.",  # noqa: E501
    "\\core\\event\\course_created": (
        "The user with id '{userid}' created the course with id '{courseid}'."
    ),
    "\\core\\event\\course_restored": (
        "The user with id '{userid}' restored the course with id '{courseid}'."
    ),
    "\\core\\event\\course_module_created": (
        "The user with id '{userid}' created the '{other_modulename}' activity with course "
        "module id '{cmid}'."
    ),
    "\\core\\event\\config_log_created": (
        "The user with id '{userid}' changed the config setting '{other_name}' from "
        "'{other_oldvalue}' to '{other_value}'."
    ),
    "\\core\\event\\calendar_event_created": (
        "The user with id '{userid}' created the event '{other_name}' with id '{objectid}'."
    ),
    "\\gradereport_user\\event\\grade_report_viewed": (
        "The user with id '{userid}' viewed the user report in the gradebook."
    ),
    "\\gradereport_overview\\event\\grade_report_viewed": (
        "The user with id '{userid}' viewed the overview report in the gradebook."
    ),
    "\\gradereport_grader\\event\\grade_report_viewed": (
        "The user with id '{userid}' viewed the grader report in the gradebook."
    ),
    "\\report_log\\event\\report_viewed": (
        "The user with id '{userid}' viewed the log report for the course with id '{courseid}'."
    ),
    "\\mod_page\\event\\course_module_viewed": VIEWED_ACTIVITY,
    "\\mod_resource\\event\\course_module_viewed": VIEWED_ACTIVITY,
    "\\mod_resource\\event\\course_module_instance_list_viewed": INSTANCE_LIST_VIEWED,
    "\\mod_url\\event\\course_module_viewed": VIEWED_ACTIVITY,
    "\\mod_assign\\event\\course_module_viewed": VIEWED_ACTIVITY,
    "\\mod_assign\\event\\course_module_instance_list_viewed": INSTANCE_LIST_VIEWED,
    "\\mod_assign\\event\\submission_status_viewed": (
        "The user with id '{userid}' has viewed the submission status page for " + IN_ASSIGNMENT
    ),
    "\\mod_assign\\event\\submission_form_viewed": (
        "The user with id '{userid}' viewed their submission for " + IN_ASSIGNMENT
    ),
    "\\mod_assign\\event\\submission_confirmation_form_viewed": (
        "The user with id '{userid}' viewed the submission confirmation form for " + IN_ASSIGNMENT
    ),
    "\\mod_assign\\event\\assessable_submitted": (
        "The user with id '{userid}' has submitted the submission with id '{objectid}' for "
        + IN_ASSIGNMENT
    ),
    "\\assignsubmission_file\\event\\submission_created": (
        "The user with id '{userid}' created a file submission in " + IN_ASSIGNMENT
    ),
    "\\assignsubmission_file\\event\\submission_updated": (
        "The user with id '{userid}' updated a file submission in " + IN_ASSIGNMENT
    ),
    "\\assignsubmission_file\\event\\assessable_uploaded": (
        "The user with id '{userid}' has uploaded a file to the submission with id '{objectid}' "
        "in " + IN_ASSIGNMENT
    ),
    "\\assignsubmission_onlinetext\\event\\submission_created": (
        "The user with id '{userid}' created an online text submission in " + IN_ASSIGNMENT
    ),
    "\\assignsubmission_onlinetext\\event\\submission_updated": (
        "The user with id '{userid}' updated an online text submission in " + IN_ASSIGNMENT
    ),
    "\\assignsubmission_onlinetext\\event\\assessable_uploaded": (
        "The user with id '{userid}' has saved an online text with id '{objectid}' in "
        + IN_ASSIGNMENT
    ),
    "\\mod_assign\\event\\submission_graded": (
        "The user with id '{userid}' has graded the submission '{objectid}' for the user with "
        "id '{relateduserid}' for " + IN_ASSIGNMENT
    ),
    "\\mod_assign\\event\\submission_status_updated": (
        "The user with id '{userid}' has updated the status of the submission with id "
        "'{objectid}' for the assignment with course module id '{cmid}' to the status "
        "'{other_newstatus}'."
    ),
    "\\mod_assign\\event\\grading_table_viewed": (
        "The user with id '{userid}' viewed the grading table for " + IN_ASSIGNMENT
    ),
    "\\mod_assign\\event\\grading_form_viewed": (
        "The user with id '{userid}' viewed the grading form for the user with id "
        "'{relateduserid}' for " + IN_ASSIGNMENT
    ),
    "\\mod_assign\\event\\feedback_viewed": (
        "The user with id '{userid}' viewed the feedback for the user with id "
        "'{relateduserid}' for " + IN_ASSIGNMENT
    ),
    "\\mod_quiz\\event\\course_module_viewed": VIEWED_ACTIVITY,
    "\\mod_quiz\\event\\course_module_instance_list_viewed": INSTANCE_LIST_VIEWED,
    "\\mod_quiz\\event\\attempt_started": (
        "The user with id '{relateduserid}' has started the attempt with id '{objectid}' " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_viewed": (
        "The user with id '{userid}' has viewed " + BELONGING_TO + " " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_updated": (
        "The user with id '{userid}' has updated " + BELONGING_TO + " " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_autosaved": (
        "The user with id '{userid}' has autosaved " + BELONGING_TO + " " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_summary_viewed": (
        "The user with id '{userid}' has viewed the summary for " + BELONGING_TO + " " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_submitted": (
        "The user with id '{relateduserid}' has submitted the attempt with id '{objectid}' "
        + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_reviewed": (
        "The user with id '{userid}' has reviewed " + BELONGING_TO + " " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_abandoned": (
        "The user with id '{relateduserid}' has had their attempt with id '{objectid}' marked "
        "as abandoned " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\attempt_becameoverdue": (
        "The user with id '{relateduserid}' has had their attempt with id '{objectid}' marked "
        "as overdue " + IN_QUIZ
    ),
    "\\mod_quiz\\event\\report_viewed": (
        "The user with id '{userid}' viewed the report '{other_reportname}' " + IN_QUIZ
    ),
    "\\mod_forum\\event\\course_module_viewed": VIEWED_ACTIVITY,
    "\\mod_forum\\event\\course_module_instance_list_viewed": INSTANCE_LIST_VIEWED,
    "\\mod_forum\\event\\discussion_viewed": (
        "The user with id '{userid}' has viewed the discussion with id '{objectid}' " + IN_FORUM
    ),
    "\\mod_forum\\event\\discussion_created": (
        "The user with id '{userid}' has created the discussion with id '{objectid}' " + IN_FORUM
    ),
    "\\mod_forum\\event\\post_created": (
        "The user with id '{userid}' has created the post with id '{objectid}' in the "
        "discussion with id '{other_discussionid}' " + IN_FORUM
    ),
    "\\mod_forum\\event\\post_updated": (
        "The user with id '{userid}' has updated the post with id '{objectid}' in the "
        "discussion with id '{other_discussionid}' " + IN_FORUM
    ),
    "\\mod_forum\\event\\assessable_uploaded": (
        "The user with id '{userid}' has posted content in the forum post with id '{objectid}' "
        "in the discussion '{other_discussionid}' located in the forum with course module id "
        "'{cmid}'."
    ),
    "\\mod_forum\\event\\discussion_subscription_created": (
        "The user with id '{userid}' subscribed the user with id '{relateduserid}' to the "
        "discussion with id '{other_discussion}' in the forum with the course module id "
        "'{cmid}'."
    ),
    "\\mod_assign\\event\\statement_accepted": (
        "The user with id '{userid}' has accepted the statement of the submission with id "
        "'{objectid}' for " + IN_ASSIGNMENT
    ),
    "\\mod_feedback\\event\\course_module_viewed": VIEWED_ACTIVITY,
    "\\mod_feedback\\event\\response_submitted": (
        "The user with id '{userid}' submitted response for 'feedback' activity with course "
        "module id '{cmid}'."
    ),
}
# Other wordings of the same classes, from older Moodle versions (tried in turn
# when the template above does not match).
OLDER_TEMPLATES: dict[str, tuple[str, ...]] = {
    "\\mod_quiz\\event\\attempt_reviewed": (
        # Moodle 2.x: the owner first, the reviewer last.
        "The user with id '{relateduserid}' has had their attempt with id '{objectid}' "
        "reviewed by the user with id '{userid}' " + IN_QUIZ,
    ),
}
# A class Moodle's report shows that this table lacks is described this way.
FALLBACK_TEMPLATE = "The user with id '{userid}' triggered the event '{eventname}'."

ID_FIELDS = ("userid", "relateduserid", "courseid", "cmid", "objectid")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# Ids found by wording, for sentences no template matches. Obfuscated exports
# write x for an id; those read as missing.
GENERIC_PATTERNS: dict[str, str] = {
    "userid": r"^The user with id '(\d+)'",
    "relateduserid": (
        r"^The user with id '\d+'.*?(?:the user with id|for user with id|"
        r"belonging to the user with id) '(\d+)'"
    ),
    "courseid": r"course with id '(\d+)'",
    "cmid": r"course module (?:with )?id '(\d+)'",
    "modname": r"the '([a-z][a-z0-9_]*)' activity",
}


@cache
def template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression with one named group per placeholder of the template."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        name = match.group(1)
        if name in seen:
            parts.append(f"(?P={name})")
        elif name in ID_FIELDS:
            # Ids may be obfuscated in shared exports: 'x', or 'x98' (leading digits masked).
            parts.append(f"(?P<{name}>[0-9]+|x[0-9x]*|)")
        else:
            parts.append(f"(?P<{name}>.*?)")
        seen.add(name)
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("^" + "".join(parts) + r"\s*$")


def template_fields(template: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def render(template: str, values: dict[str, object]) -> str:
    """Fill a template; a missing value renders as an empty string."""
    return PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1))), template)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Words of an event name or of the description's verb that tell what the event
# did to its object (Moodle's crud letter), in English and a few other
# languages, longest first so that "unenrolled" wins over "enrolled".
CRUD_WORDS: list[tuple[str, str]] = [
    ("unenrolled", "d"), ("deleted", "d"), ("removed", "d"), ("supprim", "d"),
    ("eliminad", "d"), ("gelöscht", "d"), ("désinscrit", "d"),
    ("created", "c"), ("added", "c"), ("uploaded", "c"), ("posted", "c"), ("started", "c"),
    ("enrolled", "c"), ("assigned", "c"), ("subscribed", "c"), ("cré", "c"), ("ajout", "c"),
    ("déposé", "c"), ("commencé", "c"), ("inscrit", "c"), ("creado", "c"), ("erstellt", "c"),
    ("updated", "u"), ("submitted", "u"), ("graded", "u"), ("changed", "u"),
    ("modified", "u"), ("saved", "u"), ("completed", "u"), ("autosaved", "u"),
    ("mis à jour", "u"), ("modifi", "u"), ("soumis", "u"), ("remis", "u"), ("envoy", "u"),
    ("évalué", "u"), ("noté", "u"), ("terminé", "u"), ("actualizad", "u"),
    ("aktualisiert", "u"), ("viewed", "r"), ("downloaded", "r"), ("reviewed", "r"),
    ("exported", "r"), ("searched", "r"), ("logged in", "r"), ("consult", "r"), ("affich", "r"),
    ("vu", "r"), ("visto", "r"), ("angezeigt", "r"), ("téléchargé", "r"),
]  # fmt: skip
# Words that make an event teaching (Moodle's edulevel 1): grading others.
TEACHING_WORDS = ("graded", "grading", "grader", "évalué", "noté", "notation", "bewertet")


def crud_from_words(*texts: str) -> str | None:
    """Moodle's crud letter guessed from words, or None when no word says it."""
    for text in texts:
        lowered = text.casefold()
        for word, letter in CRUD_WORDS:
            if re.search(r"(?<![a-zà-ÿ])" + re.escape(word), lowered):
                return letter
    return None


def description_verb(description: str) -> str:
    """The verb after 'The user with id '..'' ('viewed', 'has submitted'), or ''."""
    match = re.match(r"^The user with id '[^']*' (?:has |have )?([a-z]+)", description)
    return match.group(1) if match else ""
