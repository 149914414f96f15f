"""Derive the event catalogue seed from Moodle's list of event classes.

    python -m moodle_analytics.event_catalogue_rules events-5.1.csv [--out seeds/...csv]

The input lists every event class of a Moodle version as extracted from its
source (eventname, component, target, action, is_abstract, parent, crud,
edulevel, objecttable, name_en, component_name_en, is_deprecated,
contextlevel, source_path). Moodle's own facts are copied; the project's
columns come from the rules below, in this order, with HAND_CHOICES where a
rule is wrong for a class. Running it again on the same file gives the same
seed.

activity_type
  1. a module's component, or a subplugin's (mod_quiz, quiz_*, quizaccess_*
     -> quiz; assignsubmission_*, assignfeedback_* -> assign; forumreport_*
     -> forum; booktool_* -> book; ...);
  2. completion: a target about completion, or a course completed;
  3. grades: a gradebook component (gradereport_*, gradeexport_*, ...), a
     target starting with grade, or a grading action;
  4. enrolment: user enrolments, enrolment methods, roles assigned or
     unassigned, enrol_* components;
  5. calendar: calendar targets;
  6. course: targets about the course and its parts (course*, section,
     group*, user list and profile) and report_* components;
  7. else site.
analytics_action
  login / logout / login_failed by action; complete (completion); enrol or
  unenrol (enrolment; unenrol for crud d); the quiz attempt's own steps
  (attempt_start, attempt_update, attempt_submit, attempt_abandon,
  attempt_overdue; a review is view_feedback, a grading grade); an
  assignment submission created (submit) or updated (resubmit), submitted or
  uploaded (submit); a forum discussion created (discussion_create), a post
  created or updated (post); subscriptions (other); reads: view_feedback
  (feedback targets), view_grades (gradebook reports), else view; an
  education level 1 grading or submission change: grade; a learner's
  (education level 2) write in an activity: submit when the action is
  submitted, delete for crud d, else write; a learner's write elsewhere:
  write for comments, else other; any other write: admin.
is_learner_write
  an analytics action that produces something: submit, resubmit,
  attempt_start, attempt_update, attempt_submit, post, discussion_create,
  write; only for crud c or u.
counts_as_activity
  reads (view, view_grades, view_feedback) and the actions above that are a
  learner's deliberate work (the writes, delete); not logins, completion,
  enrolment, grading, administration, abandoned or overdue attempts, other.
cognitive_depth (community of inquiry: 1 viewed, 2 submitted or posted, 3
  viewed feedback or others' contributions, 4 replied or interacted), only for
  events in an activity and not of education level 1:
  view_feedback 3; a forum discussion read 3; a forum post created 4; the
  learner writes 2; other reads 1, except instance lists and reports.
social_breadth
  where there is a cognitive depth: 2 for what other people wrote or said in
  a social activity (forum, chat, BigBlueButton: discussions, posts,
  messages, meetings; not the activity's page), else 1.
context_level
  Moodle's when the class fixes it; else 10 for logins and logouts, 70 for
  events on a course module and an activity's events (50 for an instance
  list), 50 for course, completion, enrolment, grades and calendar events, 30
  for events on a user or the dashboard, 10 for the rest.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from moodle_analytics.event_catalogue import CATALOGUE_PATH

# The seed's columns in order: Moodle's facts, the project's reading, then the list's extras.
SEED_COLUMNS = (
    "event_name", "component", "display_name", "component_display_name", "action", "target",
    "object_table", "crud", "edulevel", "context_level", "activity_type", "analytics_action",
    "is_learner_write", "cognitive_depth", "social_breadth", "counts_as_activity",
    "is_abstract", "is_deprecated", "parent", "classified_by",
)  # fmt: skip
INPUT_COLUMNS = (
    "eventname", "component", "target", "action", "is_abstract", "parent", "crud", "edulevel",
    "objecttable", "name_en", "component_name_en", "is_deprecated", "contextlevel",
)  # fmt: skip
SUBPLUGIN_MODULES = {
    "assignsubmission": "assign", "assignfeedback": "assign", "quiz": "quiz",
    "quizaccess": "quiz", "forumreport": "forum", "booktool": "book", "datafield": "data",
    "datapreset": "data", "workshopform": "workshop", "workshopallocation": "workshop",
    "workshopeval": "workshop", "scormreport": "scorm", "ltiservice": "lti", "ltisource": "lti",
}  # fmt: skip
COURSE_TARGETS = {
    "section", "group", "group_member", "grouping", "grouping_group", "user_list",
    "user_profile", "recent_activity",
}  # fmt: skip
QUIZ_ATTEMPT_ACTIONS = {
    "started": "attempt_start", "submitted": "attempt_submit", "updated": "attempt_update",
    "autosaved": "attempt_update", "abandoned": "attempt_abandon",
    "becameoverdue": "attempt_overdue", "reviewed": "view_feedback", "graded": "grade",
    "viewed": "view",
}  # fmt: skip
LEARNER_WRITES = {
    "submit", "resubmit", "attempt_start", "attempt_update", "attempt_submit", "post",
    "discussion_create", "write",
}  # fmt: skip
ACTIVITY_ACTIONS = LEARNER_WRITES | {"view", "view_grades", "view_feedback", "delete"}
SOCIAL_MODULES = {"forum", "chat", "bigbluebuttonbn"}
NOT_ACTIVITIES = {"completion", "grades", "enrolment", "calendar", "course", "site"}

# Classes a rule reads wrongly: event name -> (project columns, why).
HAND_CHOICES: dict[str, tuple[dict[str, object], str]] = {
    "\\mod_assign\\event\\statement_accepted": (
        dict(analytics_action="submit", is_learner_write=True, counts_as_activity=True,
             cognitive_depth=2, social_breadth=1),
        "Moodle logs it (a read of education level 0) as the learner submits with the "
        "submission statement: it is the submission",
    ),
    "\\mod_forum\\event\\discussion_subscription_created": (
        dict(analytics_action="other", counts_as_activity=False),
        "subscribing is a setting, not work (kept as before)",
    ),
    "\\mod_assign\\event\\all_submissions_downloaded": (
        dict(counts_as_activity=False),
        "a teacher downloading every submission at once (kept as before)",
    ),
    **{
        f"\\tool_usertours\\event\\{name}": (
            dict(analytics_action="other", is_learner_write=False, counts_as_activity=False,
                 cognitive_depth=None, social_breadth=None),
            "a user tour Moodle shows on a page: not the learner's doing",
        )
        for name in ("step_shown", "tour_started", "tour_ended", "tour_reset")
    },
}  # fmt: skip


def module_of(component: str) -> str | None:
    """The activity module a component belongs to, if any."""
    if component.startswith("mod_"):
        return component.removeprefix("mod_")
    prefix = component.split("_", 1)[0]
    return SUBPLUGIN_MODULES.get(prefix) if "_" in component else None


def activity_type(component: str, target: str, action: str) -> str:
    module = module_of(component)
    if module:
        return module
    if "completion" in target or (target == "course" and action == "completed"):
        return "completion"
    if component.startswith("grade") or target.startswith("grade") or action == "graded":
        return "grades"
    if (
        target in ("user_enrolment", "enrol_instance")
        or (target == "role" and action in ("assigned", "unassigned"))
        or component.startswith("enrol_")
    ):
        return "enrolment"
    if target.startswith("calendar"):
        return "calendar"
    if target.startswith("course") or target in COURSE_TARGETS or component.startswith("report_"):
        return "course"
    return "site"


def analytics_action(event: dict[str, str], kind: str) -> str:
    target, action, crud = event["target"], event["action"], event["crud"]
    edulevel = event["edulevel"]
    if action in ("loggedin", "loggedinas"):
        return "login"
    if action == "loggedout":
        return "logout"
    if target == "user_login" and action == "failed":
        return "login_failed"
    if kind == "completion":
        return "complete"
    if kind == "enrolment":
        return "unenrol" if crud == "d" else "enrol"
    if kind == "quiz" and target == "attempt" and action in QUIZ_ATTEMPT_ACTIONS:
        return QUIZ_ATTEMPT_ACTIONS[action]
    if kind == "assign" and target in ("submission", "assessable") and edulevel == "2":
        if action in ("created", "submitted", "uploaded"):
            return "submit"
        if action == "updated":
            return "resubmit"
    if kind == "forum" and edulevel == "2":
        if target == "discussion" and action == "created":
            return "discussion_create"
        if target in ("post", "assessable") and action in ("created", "updated", "uploaded"):
            return "post"
    if "subscription" in target:
        return "other"
    if crud == "r":
        if "feedback" in target:
            return "view_feedback"
        if target == "grade_report" or event["component"].startswith("gradereport_"):
            return "view_grades"
        return "view"
    if edulevel == "1" and (action == "graded" or "submission" in target):
        return "grade"
    if edulevel == "2" and kind not in NOT_ACTIVITIES:
        return "submit" if action == "submitted" else ("delete" if crud == "d" else "write")
    if edulevel == "2":
        return "write" if "comment" in target else "other"
    return "admin"


def cognitive_depth(event: dict[str, str], kind: str, action: str) -> int | None:
    if kind in NOT_ACTIVITIES or event["edulevel"] == "1":
        return None
    target = event["target"]
    reads_peers = kind == "forum" and target == "discussion" and action == "view"
    if action == "view_feedback" or reads_peers:
        return 3
    if kind == "forum" and action == "post" and event["crud"] == "c":
        return 4
    if action in LEARNER_WRITES:
        return 2
    if action == "view" and not target.endswith("instance_list") and "report" not in target:
        return 1
    return None


def social_breadth(event: dict[str, str], kind: str, depth: int | None) -> int | None:
    if depth is None:
        return None
    return 2 if kind in SOCIAL_MODULES and event["target"] not in ("course_module", "course") else 1


def context_level(event: dict[str, str], kind: str) -> str:
    if event["contextlevel"]:
        return event["contextlevel"]
    if event["action"] in ("loggedin", "loggedinas", "loggedout", "failed"):
        return "10"
    if event["target"].startswith("course_module") and not event["target"].endswith("list"):
        return "70"
    if kind not in NOT_ACTIVITIES:
        return "50" if event["target"].endswith("instance_list") else "70"
    if kind in ("course", "completion", "enrolment", "grades", "calendar"):
        return "50"
    return "30" if event["target"].startswith("user") or event["target"] == "dashboard" else "10"


def derive(event: dict[str, str]) -> dict[str, object]:
    """One seed row from one event class of the list."""
    kind = activity_type(event["component"], event["target"], event["action"])
    action = analytics_action(event, kind)
    depth = cognitive_depth(event, kind, action)
    row: dict[str, object] = {
        "event_name": event["eventname"],
        "component": event["component"],
        "display_name": event["name_en"],
        "component_display_name": event["component_name_en"],
        "action": event["action"],
        "target": event["target"],
        "object_table": event["objecttable"],
        "crud": event["crud"],
        "edulevel": event["edulevel"],
        "context_level": context_level(event, kind),
        "activity_type": kind,
        "analytics_action": action,
        "is_learner_write": action in LEARNER_WRITES and event["crud"] in ("c", "u"),
        "cognitive_depth": depth,
        "social_breadth": social_breadth(event, kind, depth),
        "counts_as_activity": action in ACTIVITY_ACTIONS,
        "is_abstract": event["is_abstract"] == "true",
        "is_deprecated": event["is_deprecated"] == "true",
        "parent": event["parent"],
        "classified_by": "rule",
    }
    choice = HAND_CHOICES.get(event["eventname"])
    if choice is not None:
        row.update(choice[0])
        row["classified_by"] = "hand"
    return row


def read_event_list(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in INPUT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a list of Moodle event classes; lacks {missing}")
        return list(reader)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_seed(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SEED_COLUMNS)
        for row in sorted(rows, key=lambda r: str(r["event_name"])):
            writer.writerow([_cell(row[column]) for column in SEED_COLUMNS])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m moodle_analytics.event_catalogue_rules",
        description="Write the event catalogue seed from a list of Moodle's event classes "
        "(e.g. events-5.1.csv), by the rules of this module's docstring.",
    )
    parser.add_argument("events", type=Path, help="CSV of Moodle's event classes")
    parser.add_argument("--out", type=Path, default=CATALOGUE_PATH, help="seed to write")
    args = parser.parse_args(argv)
    try:
        events = read_event_list(args.events)
    except (OSError, ValueError) as error:
        print(f"event_catalogue_rules: error: {error}", file=sys.stderr)
        return 2
    rows = [derive(event) for event in events]
    write_seed(rows, args.out)
    hand = sum(row["classified_by"] == "hand" for row in rows)
    print(f"{len(rows)} event classes ({hand} by hand) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
