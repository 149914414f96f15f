"""moodle-logs-import: load Moodle Logs report downloads into Moodle's tables.

Every teacher can download a course's log (Course > Reports > Logs >
Download, CSV). This command reads one or many such files (course or
site-level downloads, any Moodle version's time format) and writes Moodle's
tables into a DuckDB file, so the dbt project runs without database access.

What it recovers: log rows (event class from Component and Event name through
the event catalogue; user, course, activity and affected-user ids from the
Description; time as UTC from --timezone), users (names from User full name;
"Real user as User" rows set realuserid), courses (names from "Course: ..."),
activities (type and name from "Quiz: Week 1 quiz" and the like) and roles.

Learners come from --roster when given; otherwise they are inferred per
course: the users who act in the course or are affected by its events, minus
teachers (users who do teaching events - edulevel 1 - to others' work or to
the course as a whole, e.g. grading or the grader report; who create
activities or calendar events or view the course's log report; or whom a
logged role assignment gives role 3 or 4) and minus other staff (users who
enrol or assign roles to others, are given role 1 or 2, log in as others, or
do site administration). The guest user, user 0 and ids a named download
shows as "-" (users Moodle no longer has) are never learners. A learner
promoted to teacher who never teaches in the log stays a learner. Learners
get the student role and an enrolment starting at their first event;
teachers get the editingteacher role. People in a --grades file are learners
too when no roster is given.

Course dates: a course starts on the Monday of the week its learners start
(--course-start to set it) and, when its learners stopped taking part at
least 4 weeks before the newest row of the downloads (last term's course
downloaded with this term's), ends on the Monday after their last week
(--course-end to set it); otherwise it is running and has no end date. A
course whose learners start at their own times is self-paced and has neither.
Give the downloads of past terms with the running one: the risk models train
on the courses whose outcome is known; with one term the rule-based score is
used. --build then runs `dbt build` on the tables written.

Robustness: BOM, CR/LF/CRLF, reordered columns, quoted commas and quotes,
masked names ("-"), unknown or localised event names (kept as
\\unknown\\event\\<component>__<name>, counted), newest-first order and rows
repeated by overlapping downloads (loaded once, counted). A row that cannot be
read (broken quote, unreadable time, wrong number of columns) is reported with
its file and line and written to the rejects CSV; the rest loads. Totals
always add up: read = loaded + duplicates + rejected.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pandas as pd
import yaml

from moodle_analytics.logs_report.build import run_dbt_build
from moodle_analytics.logs_report.coursework import attempt_rows, submission_rows
from moodle_analytics.logs_report.events import (
    EventMapper,
    classify_unknown,
    parse_context,
    parse_descriptions,
    unknown_class_name,
)
from moodle_analytics.logs_report.gradebook import Gradebook, inferred_grademax, read_gradebook
from moodle_analytics.logs_report.learners import infer_roles, read_roster
from moodle_analytics.logs_report.reading import Reject, empty_frame, read_download
from moodle_analytics.logs_report.report_format import (
    MASKED_NAMES,
    MODULE_DISPLAY_NAMES,
)
from moodle_analytics.logs_report.times import (
    fill_missing_years,
    local_midnight_epoch,
    monday_of_week_epoch,
    split_times,
    to_epoch,
)
from moodle_analytics.moodle_sink import MoodleDuckDBWriter
from moodle_analytics.moodle_tables import MOODLE_TABLES

# Moodle's standard roles: id, shortname, archetype.
ROLES = [
    (1, "manager"), (2, "coursecreator"), (3, "editingteacher"), (4, "teacher"),
    (5, "student"), (6, "guest"), (7, "user"), (8, "frontpage"),
]  # fmt: skip
STUDENT_ROLE_ID, EDITING_TEACHER_ROLE_ID = 5, 3
SYSTEM_CONTEXT_ID = 1
IMPORT_CATEGORY_ID = 1
CATEGORY_CONTEXT_ID = 2
SITE_COURSE_ID = 1
# Activity modules in Moodle's alphabetical install order; others are appended.
MODULE_NAMES = sorted(MODULE_DISPLAY_NAMES)
# Module tables need these NOT NULL columns that have no default.
INSTANCE_REQUIRED = {
    "quiz": {"intro": ""},
    "assign": {"intro": ""},
    "forum": {"intro": ""},
    "feedback": {"intro": "", "page_after_submit": ""},
    "url": {"externalurl": ""},
}
HALF_YEAR_SECONDS = 183 * 24 * 3600
# A course whose learners stopped taking part this long before the newest row
# of the downloads has ended (see learner_weeks); a shorter pause is a break.
FINISHED_AFTER_SECONDS = 28 * 24 * 3600
WEEK_SECONDS = 7 * 24 * 3600
# Learners who first take part within this many weeks of the start started together.
SELF_PACED_WEEKS = 3
EARLIEST_PLAUSIBLE_EPOCH = 946684800  # 2000-01-01: earlier times are clock errors
NEWS_FORUM_NAMES = {"announcements", "news forum", "site announcements"}
TEXT_COLUMNS = (
    "time", "user", "affected", "context", "component", "event", "description", "origin", "ip",
)  # fmt: skip
DUPLICATE_KEY = ("epoch", *TEXT_COLUMNS[1:])


@dataclass
class ImportOptions:
    timezone: str = "UTC"
    year: int | None = None
    term_start: date | None = None
    # Start and end dates of every course (None: inferred, see learner_weeks),
    # and of courses named by id, short name or full name.
    course_start: date | None = None
    course_end: date | None = None
    course_starts: dict[str, date] = field(default_factory=dict)
    course_ends: dict[str, date] = field(default_factory=dict)
    roster: Path | None = None
    grades: Sequence[Path] = ()
    # Gradebook path (as given in grades) -> its course (id, short or full name),
    # for gradebooks that name no course by their people or activities alone.
    grade_courses: dict[str, str] = field(default_factory=dict)
    # Grade item name (as in the gradebook, "Course total" for the total) -> value.
    grade_max: dict[str, float] = field(default_factory=dict)
    grade_pass: dict[str, float] = field(default_factory=dict)
    rejects: Path | None = None
    schema: str = "public"
    prefix: str = "mdl_"


@dataclass
class ImportTotals:
    files: int = 0
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    unknown_events: int = 0
    unknown_event_names: Counter = field(default_factory=Counter)
    courses: int = 0
    users: int = 0
    learners: int = 0
    teachers: int = 0
    grades: int = 0
    rejects_path: Path | None = None
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    course_dates: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"read {self.read:,} rows from {self.files} file(s): loaded {self.loaded:,}, "
            f"duplicates {self.duplicates:,}, rejected {self.rejected:,} "
            f"({self.seconds:.1f} s, {self.cpu_seconds:.1f} s CPU)",
            f"unknown event names kept: {self.unknown_events:,} rows "
            f"of {len(self.unknown_event_names)} name(s)",
            f"courses {self.courses}, users {self.users}, learners {self.learners}, "
            f"teachers {self.teachers}, grades {self.grades}",
        ]
        lines += [f"  {line}" for line in self.course_dates]
        for name, count in self.unknown_event_names.most_common(10):
            lines.append(f"  unknown: {name} ({count:,})")
        for reject in self.rejects[:20]:
            lines.append(f"  rejected {reject.file}:{reject.line}: {reject.reason}")
        if len(self.rejects) > 20:
            lines.append(f"  ... {len(self.rejects) - 20:,} more in {self.rejects_path}")
        lines += [f"  warning: {warning}" for warning in self.warnings]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _unique_map(pairs: pd.DataFrame, key: str, value: str) -> dict:
    """key -> value for keys that go with exactly one value."""
    pairs = pairs[[key, value]].dropna().drop_duplicates()
    counts = pairs[key].value_counts()
    single = pairs[pairs[key].isin(counts[counts == 1].index)]
    return dict(zip(single[key], single[value], strict=True))


def _mode_map(pairs: pd.DataFrame, key: str, value: str) -> dict:
    """key -> its most frequent value."""
    pairs = pairs[[key, value]].dropna()
    if pairs.empty:
        return {}
    counts = pairs.groupby([key, value], sort=True).size().reset_index(name="n")
    counts = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates(key)
    return dict(zip(counts[key], counts[value], strict=True))


def split_login_as(names: Sequence[str], known: set[str]) -> dict[str, tuple[str, str]]:
    """'Real user as User' -> (real, as) for names holding ' as '.

    Where a name has several ' as ', the split whose parts are names seen on
    their own wins; else the first."""
    result = {}
    for name in names:
        pieces = name.split(" as ")
        if len(pieces) < 2 or name in known:
            continue
        splits = [(" as ".join(pieces[:i]), " as ".join(pieces[i:])) for i in range(1, len(pieces))]
        best = next((s for s in splits if s[0] in known or s[1] in known), splits[0])
        result[name] = best
    return result


class LogsReportImport:
    """One import: files in, Moodle tables out. Steps run in the order of run()."""

    def __init__(self, paths: Sequence[Path], options: ImportOptions):
        self.paths = [Path(p) for p in paths]
        self.options = options
        self.totals = ImportTotals(files=len(self.paths))
        self.rejects: list[Reject] = []
        self.mapper = EventMapper()
        self.tables: dict[str, pd.DataFrame] = {}
        self.next_synthetic_user = 0
        self.ids_by_seen_name: dict[str, set[int]] = {}

    # ------------------------------------------------------------------ read
    def read(self) -> pd.DataFrame:
        frames = []
        labels = _labels(self.paths)
        for path, label in zip(self.paths, labels, strict=True):
            frame, rejects = read_download(path, label)
            if frame.empty and not rejects:
                self.totals.warnings.append(f"{label}: no rows (an empty download?)")
            self.rejects += rejects
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True) if frames else empty_frame()
        self.totals.read = len(frame) + len(self.rejects)
        frame["order"] = np.arange(len(frame))
        for column in TEXT_COLUMNS:
            frame[column] = frame[column].fillna("").astype(object)
        frame["affected"] = frame["affected"].replace("", "-")
        return frame

    def parse_times(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts = split_times(frame["time"].astype(str))
        yearless = parts["year"].isna() & parts["month"].notna()
        options = self.options
        fill_missing_years(
            parts, frame["file"], options.year, options.term_start, options.course_end
        )
        frame["epoch"] = to_epoch(parts, options.timezone)
        frame["has_seconds"] = parts["has_seconds"].astype(bool)
        bad = frame["epoch"].isna()
        for row in frame[bad].itertuples():
            if yearless[row.Index] and pd.isna(parts.at[row.Index, "year"]):
                reason = "time has no year; pass --term-start (or --year, or --course-end)"
            elif yearless[row.Index]:
                reason = (
                    f"time {row.time!r} placed in {int(parts.at[row.Index, 'year'])} "
                    "is no date of that year"
                )
            else:
                reason = f"unreadable time {row.time!r}"
            self.rejects.append(Reject(row.file, row.line, reason, row.raw))
        frame = frame[~bad].copy()
        frame["epoch"] = frame["epoch"].astype("int64")
        return frame

    def drop_duplicates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows repeated across files are loaded once.

        Identical rows within one file are distinct events (two clicks in one
        minute); across files a row counts as many times as the file that
        holds it most often."""
        key = list(DUPLICATE_KEY)
        frame["occurrence"] = frame.groupby([*key, "file"], sort=False).cumcount()
        repeated = frame.duplicated([*key, "occurrence"], keep="first")
        self.totals.duplicates = int(repeated.sum())
        return frame[~repeated].copy()

    # ------------------------------------------------------------ interpret
    def interpret(self, frame: pd.DataFrame) -> pd.DataFrame:
        contexts = {text: parse_context(text) for text in frame["context"].unique()}
        for part in ("kind", "module", "name"):
            values = {text: getattr(context, part) for text, context in contexts.items()}
            frame[f"ctx_{part}"] = frame["context"].map(values).astype(object)
        self.classify(frame)
        parsed = parse_descriptions(frame["description"], frame["eventname"])
        for column in parsed.columns:
            frame[f"d_{column}"] = parsed[column]
        return frame

    def classify(self, frame: pd.DataFrame) -> None:
        """Event class and its catalogue columns for each row (e_ columns, known)."""
        keys = pd.DataFrame(
            {
                "component": frame["component"],
                "event": frame["event"],
                "module": frame["ctx_module"].fillna(""),
            }
        )
        facts = []
        distinct = keys.drop_duplicates()
        for component, event, module in distinct.itertuples(index=False, name=None):
            found = self.mapper.classify(component, event, module or None)
            if found is not None:
                facts.append(
                    (found.event_name, found.component, found.action, found.target,
                     found.object_table, found.crud, found.edulevel, found.context_level, True)
                )  # fmt: skip
            else:
                facts.append(
                    (unknown_class_name(component, event), self.mapper.component_of(component),
                     "", "", None, "", 0, 0, False)
                )  # fmt: skip
        columns = ["eventname", "e_component", "e_action", "e_target", "e_objecttable",
                   "e_crud", "e_edulevel", "e_level", "known"]  # fmt: skip
        table = pd.DataFrame(facts, columns=columns, index=pd.MultiIndex.from_frame(distinct))
        joined = table.reindex(pd.MultiIndex.from_frame(keys))
        for column in columns:
            frame[column] = joined[column].to_numpy()
        frame["known"] = frame["known"].astype(bool)
        unknown = ~frame["known"]
        if unknown.any():
            # Guessed from the words of the name and of the English description.
            rows = frame.loc[unknown, ["event", "description", "ctx_kind"]]
            guesses = {
                key: classify_unknown(*key)
                for key in rows.drop_duplicates().itertuples(index=False, name=None)
            }
            guessed = [guesses[key] for key in rows.itertuples(index=False, name=None)]
            frame.loc[unknown, "e_crud"] = [g[0] for g in guessed]
            frame.loc[unknown, "e_action"] = [g[1] for g in guessed]
            frame.loc[unknown, "e_edulevel"] = [g[2] for g in guessed]
            frame.loc[unknown, "e_target"] = [g[3] for g in guessed]

    # --------------------------------------------------------------- people
    def resolve_people(self, frame: pd.DataFrame) -> dict[int, str]:
        """userid, relateduserid and realuserid of each row; returns id -> name."""
        user = frame["user"]
        masked = user.isin(MASKED_NAMES)
        plain_names = set(user[~masked & ~user.str.contains(" as ", regex=False)])
        login_as = split_login_as(
            list(user[user.str.contains(" as ", regex=False)].unique()), plain_names
        )
        acting_name = user.map(lambda n: login_as.get(n, (None, n))[1]).where(~masked)
        real_name = user.map(lambda n: login_as.get(n, (None, None))[0])
        affected = frame["affected"].where(~frame["affected"].isin(MASKED_NAMES))
        actor_known = frame["d_actor_in_text"] & frame["d_userid"].notna()
        # Events on a user record (user created, ...) affect the object user.
        user_object = (
            (frame["e_objecttable"] == "user")
            & frame["d_relateduserid"].isna()
            & frame["d_objectid"].notna()
        )
        pairs = pd.concat(
            [
                pd.DataFrame(
                    {"name": acting_name[actor_known], "id": frame["d_userid"][actor_known]}
                ),
                pd.DataFrame({"name": affected, "id": frame["d_relateduserid"]}),
                pd.DataFrame(
                    {"name": affected[user_object], "id": frame["d_objectid"][user_object]}
                ),
            ]
        ).dropna()
        pairs["id"] = pairs["id"].astype("int64")
        pairs = pairs[pairs["id"] > 0]
        id_by_name = _unique_map(pairs, "name", "id")
        ids_by_name = pairs.groupby("name")["id"].agg(set).to_dict()
        # Every name each id goes by (a pseudonym in one download, the name in another).
        self.ids_by_seen_name = {name: {int(i) for i in ids} for name, ids in ids_by_name.items()}
        name_by_id = _mode_map(pairs, "id", "name")

        related = frame["d_relateduserid"].copy()
        related[user_object & affected.notna()] = frame["d_objectid"]
        from_affected = related.isna() & affected.notna()
        if from_affected.any():
            # Namesakes: an affected user named like the actor is the actor.
            actor = frame["d_userid"].where(actor_known)
            related[from_affected] = [
                _pick(ids_by_name.get(name, set()), acting)
                for name, acting in zip(affected[from_affected], actor[from_affected], strict=True)
            ]
        userid = frame["d_userid"].where(actor_known)
        missing = userid.isna()
        if missing.any():
            # Sentences that name only the affected user (quiz attempt started,
            # submitted, ...): the actor is that user unless the name says otherwise.
            name = acting_name[missing]
            related_name = related[missing].map(name_by_id)
            by_name = name.map(id_by_name)
            chosen = related[missing].where(
                (name == related_name) | by_name.isna() | name.isna(), by_name
            )
            userid[missing] = chosen.fillna(frame["d_userid"][missing])
        frame["userid"] = userid.fillna(0).astype("int64")
        frame["relateduserid"] = related.astype("Int64")

        named = self.files_identified_by_name(frame, acting_name)
        if named:
            in_named = frame["file"].isin(named)
            ids = self.ids_for_names(
                frame,
                set(acting_name[in_named].dropna()) | set(affected[in_named].dropna()),
                id_by_name,
            )
            id_by_name.update(ids)
            name_by_id.update({user: name for name, user in ids.items()})
            frame.loc[in_named, "userid"] = acting_name[in_named].map(ids).fillna(0).astype("int64")
            frame.loc[in_named, "relateduserid"] = affected[in_named].map(ids).astype("Int64")
        self.check_people_found(frame)

        realuser = real_name.map(id_by_name)
        for name in real_name[real_name.notna() & realuser.isna()].unique():
            # A real user seen only in "X as Y" rows gets an id of their own.
            synthetic = self.synthetic_user_id(frame)
            id_by_name[name] = synthetic
            name_by_id[synthetic] = name
        realuser = real_name.map(id_by_name)
        frame["realuserid"] = realuser.astype("Int64")
        return {int(k): v for k, v in name_by_id.items()}

    def files_identified_by_name(self, frame: pd.DataFrame, acting_name: pd.Series) -> list[str]:
        """Downloads whose Descriptions name no user ids (masked as 'x', or absent) in
        most rows that have a user's name: there, a person is their name."""
        named = acting_name.notna()
        no_ids = frame["d_userid"].isna() & frame["d_relateduserid"].isna()
        share = (no_ids & named).groupby(frame["file"]).sum() / named.groupby(frame["file"]).sum()
        files = sorted(share[share > 0.5].index)
        for file in files:
            rows = int((frame["file"] == file).sum())
            self.totals.warnings.append(
                f"{file}: the Description names no user id in {share[file]:.0%} of the rows "
                f"with a user (ids masked as 'x' or absent): people are told apart by "
                f"User full name and Affected user ({rows:,} rows); two people of the same "
                "name are one person"
            )
        return files

    def ids_for_names(self, frame, names: set[str], id_by_name: dict) -> dict[str, int]:
        """A user id for each name: the id other downloads give it, else a new one."""
        ids = {}
        for name in sorted(names):
            known = id_by_name.get(name)
            ids[name] = int(known) if known is not None else self.synthetic_user_id(frame)
        return ids

    def check_people_found(self, frame: pd.DataFrame) -> None:
        """Stop when most rows of a download resolve to no user: built, such a download
        would be one person doing everything."""
        unknown = (frame["userid"] == 0).groupby(frame["file"]).agg(["sum", "size"])
        for file, (missing, size) in unknown.iterrows():
            if missing * 2 > size:
                raise ValueError(
                    f"{file}: {missing:,} of {size:,} rows name no user (ids in the "
                    "Description masked or absent, and User full name masked too): people "
                    "cannot be told apart, so nothing is built; download the log with user "
                    "names or ids shown"
                )

    def synthetic_user_id(self, frame: pd.DataFrame) -> int:
        """An id above every id the files name, for people known only by name."""
        if not self.next_synthetic_user:
            ids = pd.concat([frame["d_userid"], frame["d_relateduserid"]]).dropna()
            self.next_synthetic_user = int(ids.max()) + 1 if len(ids) else 1
        value = self.next_synthetic_user
        self.next_synthetic_user += 1
        return value

    # -------------------------------------------------------------- courses
    def resolve_courses(self, frame: pd.DataFrame) -> dict[int, dict]:
        """courseid of each row; returns course id -> {fullname, shortname} of the
        courses that exist."""
        course_text = frame["d_courseid"]
        site = frame["site_level"].astype(bool)
        label = frame["course"].where(site & ~frame["course"].isin(MASKED_NAMES))
        label_ids = _mode_map(pd.DataFrame({"label": label, "id": course_text}), "label", "id")
        next_course = int(course_text.max()) + 1 if course_text.notna().any() else 2
        for text in sorted(set(label.dropna()) - set(label_ids)):
            label_ids[text] = next_course  # a course seen only by its short name
            next_course += 1
        # A course download holds one course: the one its sentences name most.
        file_course = _mode_map(
            pd.DataFrame({"file": frame["file"], "id": course_text[course_text > 0]}),
            "file",
            "id",
        )
        for name in frame.loc[~site, "file"].unique():
            if name not in file_course:
                file_course[name] = next_course
                next_course += 1
        courseid = course_text.copy()
        from_label = courseid.isna() & label.notna()
        courseid[from_label] = label[from_label].map(label_ids)
        from_file = courseid.isna() & ~site
        courseid[from_file] = frame.loc[from_file, "file"].map(file_course)
        frame["courseid"] = courseid.fillna(0).astype("int64")

        # Courses that exist: those a course context name, a Course column or
        # a course download points at. Ids seen only in rows whose context
        # Moodle could not find ("Other") are deleted or never were.
        in_course = frame["ctx_kind"] == "course"
        names = pd.DataFrame({"name": frame["ctx_name"][in_course], "id": frame["courseid"]})
        id_by_course_name = _mode_map(names.dropna(), "name", "id")
        name_by_id = _mode_map(
            pd.DataFrame(
                {"id": list(id_by_course_name.values()), "name": list(id_by_course_name.keys())}
            ),
            "id",
            "name",
        )
        existing = set(id_by_course_name.values()) | set(label_ids.values())
        existing |= {c for f, c in file_course.items() if f in set(frame.loc[~site, "file"])}
        front = frame["ctx_kind"] == "front_page"
        existing |= set(frame.loc[front, "courseid"])
        shortname_by_id = {v: k for k, v in label_ids.items()}
        courses = {}
        for course in sorted(existing - {0}):
            fullname = name_by_id.get(course)
            if course == SITE_COURSE_ID and fullname is None:
                fullname = "Front page"
            fullname = fullname or shortname_by_id.get(course) or f"Course {course}"
            courses[int(course)] = {
                "fullname": fullname,
                "shortname": shortname_by_id.get(course, fullname),
            }
        return courses

    def resolve_modules(self, frame: pd.DataFrame, courses: dict[int, dict]) -> pd.DataFrame:
        """cm id -> course, module, name for activities the log shows."""
        cmid = self.cmids_by_name(frame)
        component_module = frame["e_component"].map(_module_of_component)
        described = frame["d_module"].where(
            frame["d_module"].str.fullmatch(r"[a-z][a-z0-9_]*", na=False)
        )
        module = frame["ctx_module"].where(frame["ctx_kind"] == "module")
        module = module.fillna(described).fillna(component_module)
        frame["module"] = module
        frame["cmid"] = cmid.astype("Int64")
        in_module = (frame["ctx_kind"] == "module") & cmid.notna()
        cms = frame.loc[cmid.notna(), ["cmid", "courseid", "module"]].copy()
        cms["name"] = frame["ctx_name"].where(in_module)
        cms["seen"] = frame["epoch"]
        cms = cms[cms["cmid"].isin(set(frame.loc[in_module, "cmid"]))]
        if cms.empty:
            return pd.DataFrame(columns=["cmid", "course", "module", "name", "added"])
        table = pd.DataFrame(
            {
                "course": pd.Series(_mode_map(cms, "cmid", "courseid")),
                "module": pd.Series(_mode_map(cms, "cmid", "module")),
                "name": pd.Series(_mode_map(cms, "cmid", "name")),
                "added": cms.groupby("cmid")["seen"].min(),
            }
        )
        table.index.name = "cmid"
        table = table.reset_index()
        table = table[table["course"].isin(courses)]
        table["module"] = table["module"].fillna("unknown")
        table["name"] = table["name"].fillna("")
        return table.sort_values("cmid").reset_index(drop=True)

    @staticmethod
    def cmids_by_name(frame: pd.DataFrame) -> pd.Series:
        """Course module id of each row: the Description's, else (ids masked) the id of
        the activity the Event context names in that course ("Quiz: Week 1"), which
        other rows give or a new one does. Two activities of one name and type in a
        course are then one."""
        cmid = frame["d_cmid"].copy()
        in_module = (frame["ctx_kind"] == "module") & frame["ctx_name"].fillna("").ne("")
        missing = in_module & cmid.isna()
        if not missing.any():
            return cmid
        keys = pd.DataFrame(
            {
                "key": list(
                    zip(frame["courseid"], frame["ctx_module"], frame["ctx_name"], strict=True)
                ),
                "cmid": cmid,
            }
        )[in_module]
        known = _mode_map(keys, "key", "cmid")
        next_cmid = int(cmid.max()) + 1 if cmid.notna().any() else 1
        for key in sorted(set(keys.loc[missing[in_module].to_numpy(), "key"]) - set(known)):
            known[key] = next_cmid
            next_cmid += 1
        cmid[missing] = keys.loc[missing[in_module].to_numpy(), "key"].map(known).to_numpy()
        return cmid

    # ---------------------------------------------------------------- roles
    def course_roles(
        self,
        frame: pd.DataFrame,
        courses: dict[int, dict],
        names: dict[int, str],
        existing: set[int],
    ) -> tuple[dict[int, set[int]], dict[int, set[int]], dict[int, str]]:
        log = pd.DataFrame(
            {
                "userid": frame["userid"],
                "relateduserid": frame["relateduserid"].astype("float64"),
                "realuserid": frame["realuserid"].astype("float64"),
                "courseid": frame["courseid"],
                "eventname": frame["eventname"],
                "edulevel": frame["e_edulevel"],
                "objectid": frame["d_objectid"],
            }
        )
        log = log[log["courseid"].isin(courses) | (log["courseid"] == 0)]
        roles = infer_roles(log, names, existing)
        learners = {c: roles.learners.get(c, set()) for c in courses}
        extra_names: dict[int, str] = {}
        if self.options.roster:
            learners = self.roster_learners(frame, courses, names, extra_names)
        return learners, {c: roles.teachers.get(c, set()) for c in courses}, extra_names

    def roster_learners(self, frame, courses, names, extra_names) -> dict[int, set[int]]:
        """Course -> roster learners: a roster row names its course or, without one,
        holds for the only course, else for the courses the user appears in."""
        entries = read_roster(self.options.roster)
        id_by_name = {}
        for user, name in names.items():
            id_by_name[name] = None if name in id_by_name else user  # None: ambiguous
        seen_in = frame.groupby("courseid")["userid"].agg(set).to_dict()
        learners: dict[int, set[int]] = {c: set() for c in courses}
        teaching = [c for c in courses if c != SITE_COURSE_ID]
        for entry in entries:
            user = entry.user_id
            if user is None and entry.full_name:
                user = id_by_name.get(entry.full_name)
                if user is None:
                    if entry.full_name in id_by_name:
                        self.totals.notes.append(
                            f"roster name {entry.full_name!r} fits several users; skipped"
                        )
                        continue
                    user = self.synthetic_user_id(frame)
                    id_by_name[entry.full_name] = user
                    extra_names[user] = entry.full_name
            elif entry.full_name and user not in names:
                extra_names[user] = entry.full_name
            if entry.course is not None:
                targets = [
                    c
                    for c, info in courses.items()
                    if entry.course in (str(c), info["shortname"], info["fullname"])
                ]
            elif len(teaching) == 1:
                targets = teaching
            else:
                targets = [c for c in teaching if user in seen_in.get(c, set())]
            for course in targets:
                learners[course].add(int(user))
        return learners

    # ---------------------------------------------------------------- build
    def run(self, duckdb_path: Path) -> ImportTotals:
        started, cpu_started = time.perf_counter(), time.process_time()
        # Gradebooks first: a wrong file stops the import before the long part.
        gradebooks = [read_gradebook(path) for path in self.options.grades]
        frame = self.read()
        frame = self.parse_times(frame)
        frame = self.drop_duplicates(frame)
        if frame.empty:
            # Nothing readable: the Moodle tables are still created, empty.
            self.tables = {"logstore_standard_log": pd.DataFrame()}
            self.write(duckdb_path)
            self.totals.rejects = sorted(self.rejects, key=lambda r: (r.file, r.line))
            self.totals.rejected = len(self.rejects)
            self.totals.seconds = time.perf_counter() - started
            self.totals.cpu_seconds = time.process_time() - cpu_started
            return self.totals
        frame = self.interpret(frame)
        names = self.resolve_people(frame)
        courses = self.resolve_courses(frame)
        modules = self.resolve_modules(frame, courses)
        masked_ids = self.masked_user_ids(frame)
        existing = set(names) | masked_ids
        learners, teachers, extra_names = self.course_roles(frame, courses, names, existing)
        names = {**names, **extra_names}
        grade_people = self.match_grade_people(frame, gradebooks, courses, modules, names)
        if not self.options.roster:
            for course, people in grade_people.items():
                learners[course] |= people
        self.build_tables(frame, courses, modules, names, masked_ids, learners, teachers)
        self.build_grades(gradebooks, courses, modules, int(self.newest_plausible_epoch(frame)))
        self.write(duckdb_path)
        self.count(frame, courses, learners, teachers)
        self.totals.seconds = time.perf_counter() - started
        self.totals.cpu_seconds = time.process_time() - cpu_started
        return self.totals

    def masked_user_ids(self, frame: pd.DataFrame) -> set[int]:
        """Ids seen in downloads whose names are all masked: users without names."""
        masked_files = frame.groupby("file")["user"].agg(lambda s: s.isin(MASKED_NAMES).all())
        rows = frame[frame["file"].isin(masked_files[masked_files].index)]
        ids = set(rows["userid"]) | set(rows["relateduserid"].dropna().astype("int64"))
        return {int(i) for i in ids} - {0}

    def match_grade_people(self, frame, gradebooks: list[Gradebook], courses, modules, names):
        """Attach each gradebook to a course and each person to a user id."""
        self.gradebook_courses: list[int | None] = []
        self.gradebook_users: list[list[int | None]] = []
        self.user_details: dict[int, dict] = {}
        people_by_course: dict[int, set[int]] = {}
        id_by_name: dict[str, int | None] = {}
        ids_by_name: dict[str, set[int]] = {}
        for user, name in names.items():
            id_by_name[name] = None if name in id_by_name else user
            ids_by_name.setdefault(name, set()).add(user)
        # A name an id also goes by, where it is the only id to.
        for name, ids in self.ids_by_seen_name.items():
            ids_by_name.setdefault(name, set()).update(ids)
            if name not in id_by_name:
                id_by_name[name] = next(iter(ids)) if len(ids) == 1 else None
        # The log holds no e-mail addresses; one gradebook's serve the next.
        id_by_email: dict[str, int] = {}
        seen = pd.concat(
            [
                frame[["courseid", "userid"]],
                frame[["courseid", "relateduserid"]]
                .dropna()
                .rename(columns={"relateduserid": "userid"})
                .astype({"userid": "int64"}),
            ]
        )
        seen_by_course = seen.groupby("courseid")["userid"].agg(set).to_dict()
        for path, book in zip(self.options.grades, gradebooks, strict=True):
            given = self.options.grade_courses.get(str(path))
            if given is not None:
                course = next(iter(self.course_dates(courses, None, {given: date.min})))
            else:
                course = self.gradebook_course(book, courses, modules, seen_by_course, id_by_name)
            self.gradebook_courses.append(course)
            users = []
            unmatched = 0
            for person in book.people:
                email = person.fields.get("email", "").casefold()
                user = id_by_email.get(email) if email else None
                user = user if user is not None else id_by_name.get(person.full_name)
                if user is None and person.full_name in id_by_name and course is not None:
                    # Namesakes: the one in the gradebook's course.
                    here = ids_by_name[person.full_name] & seen_by_course.get(course, set())
                    user = next(iter(here)) if len(here) == 1 else None
                if user is None and person.full_name in id_by_name:
                    self.totals.notes.append(
                        f"{book.path}: {person.full_name!r} fits several users; skipped"
                    )
                    users.append(None)
                    continue
                if user is None:
                    user = self.synthetic_user_id(frame)
                    names[user] = person.full_name
                    id_by_name[person.full_name] = user
                    unmatched += 1
                self.user_details[user] = person.fields
                if email:
                    id_by_email[email] = user
                users.append(user)
                if course is not None:
                    people_by_course.setdefault(course, set()).add(user)
            self.gradebook_users.append(users)
            if unmatched:
                self.totals.notes.append(
                    f"{book.path}: {unmatched} of {len(book.people)} people are nowhere in the "
                    "downloads by name (masked names?); kept as learners never seen in the log"
                )
        return people_by_course

    def gradebook_course(
        self, book: Gradebook, courses, modules, seen_by_course, id_by_name
    ) -> int | None:
        """The course of a gradebook: the only one, else the one in whose log most of
        its people appear (this term's offering of a course names the same activities
        as last term's, but not the same learners), then whose activities it names."""
        teaching = [c for c in courses if c != SITE_COURSE_ID] or list(courses)
        if len(teaching) == 1:
            return teaching[0]
        items = {(c.module, c.name) for c in book.columns if c.itemtype == "mod"}
        people = {id_by_name.get(person.full_name) for person in book.people} - {None}
        scores = {}
        for course in teaching:
            rows = modules[modules["course"] == course]
            named = len(items & set(zip(rows["module"], rows["name"], strict=True)))
            scores[course] = (len(people & seen_by_course.get(course, set())), named)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        best, score = ranked[0]
        if score == (0, 0):
            self.totals.notes.append(
                f"{book.path}: no course's learners or activities match; skipped "
                "(give it as --grades COURSE=FILE)"
            )
            return None
        if len(ranked) > 1 and ranked[1][1] == score:
            tied = ", ".join(str(course) for course, value in ranked if value == score)
            self.totals.notes.append(
                f"{book.path}: fits courses {tied} equally; skipped "
                "(give it as --grades COURSE=FILE)"
            )
            return None
        return int(best)

    def build_tables(self, frame, courses, modules, names, masked_ids, learners, teachers):
        user_ids = set(names) | masked_ids
        for people in (*learners.values(), *teachers.values()):
            user_ids |= people
        user_ids -= {0}
        self.tables["user"] = self.user_rows(frame, user_ids, names)
        context_of = self.context_rows(courses, modules, user_ids)
        course_start = self.course_rows(frame, courses, learners)
        self.activity_rows(courses, modules, course_start)
        self.role_rows(frame, courses, learners, teachers, user_ids, context_of, course_start)
        submissions, submission_ids = submission_rows(
            frame, self.mapper.catalogue, self.instance_of
        )
        attempts, attempt_ids = attempt_rows(frame, self.instance_of, learners)
        self.tables["assign_submission"] = submissions
        self.tables["quiz_attempts"] = attempts
        frame["work_objectid"] = submission_ids.fillna(attempt_ids)
        self.tables["logstore_standard_log"] = self.log_table(frame, context_of)

    def user_rows(self, frame, user_ids: set[int], names: dict[int, str]) -> pd.DataFrame:
        acting = frame.groupby("userid")["epoch"].agg(["min", "max"])
        users = []
        for user in sorted(user_ids):
            first, _, last = names.get(user, "").partition(" ")
            details = self.user_details.get(user, {})
            row = {
                "id": user,
                "auth": "manual",
                "confirmed": 1,
                "mnethostid": 1,
                "username": f"user{user}",
                "firstname": details.get("firstname") or first,
                "lastname": details.get("lastname") or last,
                "email": details.get("email", ""),
                "idnumber": details.get("idnumber", ""),
                "institution": details.get("institution", ""),
                "department": details.get("department", ""),
                "description": "",
            }
            if user in acting.index:
                row["firstaccess"] = int(acting.loc[user, "min"])
                row["lastaccess"] = int(acting.loc[user, "max"])
            users.append(row)
        return pd.DataFrame(users)

    def context_rows(self, courses, modules, user_ids) -> dict[tuple[int, int], int]:
        """Contexts of the system, the import's category, courses, activities and users;
        returns (context level, instance id) -> context id."""
        contexts = [
            {
                "id": SYSTEM_CONTEXT_ID,
                "contextlevel": 10,
                "instanceid": 0,
                "path": "/1",
                "depth": 1,
            },
            {
                "id": CATEGORY_CONTEXT_ID,
                "contextlevel": 40,
                "instanceid": IMPORT_CATEGORY_ID,
                "path": f"/1/{CATEGORY_CONTEXT_ID}",
                "depth": 2,
            },
        ]
        context_of: dict[tuple[int, int], int] = {(10, 0): SYSTEM_CONTEXT_ID}

        def add(level: int, instance: int, parent_path: str) -> str:
            context_id = len(contexts) + 1
            path = f"{parent_path}/{context_id}"
            contexts.append(
                {
                    "id": context_id,
                    "contextlevel": level,
                    "instanceid": instance,
                    "path": path,
                    "depth": path.count("/"),
                }
            )
            context_of[(level, instance)] = context_id
            return path

        course_path = {
            course: add(
                50, course, "/1" if course == SITE_COURSE_ID else f"/1/{CATEGORY_CONTEXT_ID}"
            )
            for course in courses
        }
        for cm in modules.itertuples():
            add(70, int(cm.cmid), course_path[cm.course])
        for user in sorted(user_ids):
            add(30, user, "/1")
        self.tables["context"] = pd.DataFrame(contexts)
        self.tables["course_categories"] = pd.DataFrame(
            [
                {
                    "id": IMPORT_CATEGORY_ID,
                    "name": "Imported from Logs report downloads",
                    "idnumber": "",
                    "description": "",
                    "sortorder": 10000,
                    "coursecount": len(courses),
                    "depth": 1,
                    "path": f"/{IMPORT_CATEGORY_ID}",
                }
            ]
        )
        return context_of

    def course_rows(self, frame, courses, learners) -> dict[int, int]:
        """Course and enrolment method rows; returns course id -> start date."""
        tz = self.options.timezone
        starts = self.course_dates(courses, self.options.course_start, self.options.course_starts)
        ends = self.course_dates(courses, self.options.course_end, self.options.course_ends)
        weeks = self.learner_weeks(frame, learners)
        newest = self.newest_plausible_epoch(frame)
        course_rows, enrol_rows = [], []
        course_start: dict[int, int] = {}
        for course, info in courses.items():
            seen = self.plausible_epochs(frame.loc[frame["courseid"] == course, "epoch"])
            site = course == SITE_COURSE_ID
            start, end = 0, 0
            start_source = end_source = "given"
            course_weeks = weeks.get(course)
            self_paced = (
                not site
                and course not in starts
                and course not in ends
                and course_weeks is not None
                and course_weeks.is_self_paced
            )
            if not site and not self_paced:
                if course in starts:
                    start = local_midnight_epoch(starts[course], tz)
                else:
                    start_source = "inferred"
                    first = course_weeks.first_epoch if course_weeks else None
                    first = first if first is not None else (seen.min() if len(seen) else None)
                    start = monday_of_week_epoch(first, tz) if first is not None else 0
                if course in ends:
                    end = local_midnight_epoch(ends[course], tz)
                elif course_weeks and newest - course_weeks.end_epoch >= FINISHED_AFTER_SECONDS:
                    end_source = "inferred"
                    end = course_weeks.end_epoch
                if end and end <= start:
                    raise ValueError(
                        f"course {course} ({info['fullname']}): end {_local_date(end, tz)} "
                        f"is not after its start {_local_date(start, tz)}"
                    )
                end = _whole_weeks_end(start, end)
                self.totals.course_dates.append(
                    f"course {course} ({info['fullname']}): starts {_local_date(start, tz)} "
                    f"({start_source}), "
                    + (
                        # (An end moved by _whole_weeks_end is within an hour of midnight.)
                        f"ends {_local_date(end + 3600, tz)} ({end_source})"
                        if end
                        else "no end date (running; pass --course-end if it has ended)"
                    )
                )
            elif self_paced:
                self.totals.course_dates.append(
                    f"course {course} ({info['fullname']}): self-paced, each learner's week 1 "
                    f"is their own ({course_weeks.learners_starting_together} of "
                    f"{course_weeks.learners} learners started within {SELF_PACED_WEEKS} weeks "
                    "of the first; pass --course-start to date it)"
                )
            created = int(seen.min()) if len(seen) else start
            # People listed but never seen are enrolled from the start (or the first row).
            course_start[course] = start or created
            course_rows.append(
                {
                    "id": course,
                    "category": 0 if site else IMPORT_CATEGORY_ID,
                    "sortorder": course,
                    "fullname": info["fullname"],
                    "shortname": info["shortname"],
                    "summary": "",
                    "format": "site" if site else ("topics" if self_paced else "weeks"),
                    "startdate": start,
                    "enddate": end,
                    "timecreated": created,
                    "timemodified": created,
                }
            )
            if not site:
                enrol_rows.append(
                    {
                        "id": len(enrol_rows) + 1,
                        "enrol": "manual",
                        "status": 0,
                        "courseid": course,
                        "roleid": STUDENT_ROLE_ID,
                        "timecreated": created,
                        "timemodified": created,
                    }
                )
        self.tables["course"] = pd.DataFrame(course_rows)
        self.tables["enrol"] = pd.DataFrame(enrol_rows)
        self.planned_weeks = self.weeks_planned(self.tables["course"])
        return course_start

    def weeks_planned(self, course_table: pd.DataFrame) -> dict[int, int]:
        """Course -> its number of weekly sections: the weeks from start to end, and for a
        running course as many as the import's ended courses have (their median), as
        this term's offering of a course usually runs as long as last term's. Moodle
        follows a course without an end date for one week per section."""
        teaching = course_table[course_table["format"] == "weeks"]
        dated = teaching[(teaching["enddate"] > 0) & (teaching["startdate"] > 0)]
        tz = self.options.timezone
        weeks = {
            int(row.id): _weeks_between(int(row.startdate), int(row.enddate), tz)
            for row in dated.itertuples()
        }
        if weeks:
            typical = int(np.median(list(weeks.values())))
            running = teaching.loc[teaching["enddate"] == 0, "id"]
            weeks.update(dict.fromkeys((int(c) for c in running), typical))
            names = ", ".join(str(c) for c in running)
            if names:
                self.totals.course_dates.append(
                    f"course(s) {names} without an end date: followed for {typical} weeks "
                    "(the length of the ended courses)"
                )
        return weeks

    def course_dates(
        self, courses: dict[int, dict], default: date | None, named: dict[str, date]
    ) -> dict[int, date]:
        """Course id -> the date given for it (by id, short or full name), else default."""
        dates = {course: default for course in courses if default is not None}
        for key, day in named.items():
            matches = [
                course
                for course, info in courses.items()
                if key in (str(course), info["shortname"], info["fullname"])
            ]
            if not matches:
                known = ", ".join(f"{c} ({i['shortname']})" for c, i in courses.items())
                raise ValueError(f"{key!r} names no course of the downloads; courses: {known}")
            dates.update(dict.fromkeys(matches, day))
        return dates

    @staticmethod
    def plausible_epochs(epochs: pd.Series) -> pd.Series:
        """Times that are not clock errors: after 2000 and not beyond tomorrow."""
        return epochs[(epochs >= EARLIEST_PLAUSIBLE_EPOCH) & (epochs <= time.time() + 86400)]

    def newest_plausible_epoch(self, frame: pd.DataFrame) -> float:
        """When the downloads were made, at the latest: the newest plausible row."""
        epochs = self.plausible_epochs(frame["epoch"])
        return float(epochs.max()) if len(epochs) else 0.0

    def learner_weeks(self, frame, learners) -> dict[int, CourseWeeks]:
        """Course -> when its learners start and stop taking part.

        Weeks run Monday to Sunday in --timezone. The course starts with the
        first participating (edulevel 2) learner event of the first week in
        which a quarter of the learners (at least two) take part, with a
        tenth as many events as the busiest week: enrolling beforehand or
        stray early visits (or clock errors) do not move the start. It ends at
        the Monday after the last week in which a fifth as many learners as
        in the busiest week (at least two) take part, with a tenth as many
        events as the busiest week: a few late visits (to see a grade) do not
        move the end, and a course that loses most of its learners still
        ends when the rest stop. A course of at least five learners of whom
        fewer than half first take part within three weeks of that start is
        self-paced: each learner starts at their own time."""
        result = {}
        tz = self.options.timezone
        participating = frame[(frame["e_edulevel"] == 2) & (frame["epoch"] > 0)]
        for course, people in learners.items():
            in_course = (participating["courseid"] == course) & participating["userid"].isin(people)
            rows = participating.loc[in_course, ["userid", "epoch"]]
            if rows.empty:
                continue
            local = pd.to_datetime(rows["epoch"], unit="s", utc=True).dt.tz_convert(tz)
            offset = local.dt.tz_localize(None) - pd.Timestamp(0)
            # Weeks counted from Monday 29 Dec 1969, in local time.
            week = ((offset // pd.Timedelta(days=1) + 3) // 7).to_numpy()
            weeks = rows.groupby(week)["userid"].agg(["nunique", "size"]).sort_index()
            busy = weeks["size"] * 10 >= weeks["size"].max()
            most = int(weeks["nunique"].max())
            learners_to_start = min(max(2, -(-len(people) // 4)), most)
            learners_to_go_on = min(max(2, -(-most // 5)), most)
            first_week = weeks.index[(busy & (weeks["nunique"] >= learners_to_start)).to_numpy()][0]
            last_week = weeks.index[(busy & (weeks["nunique"] >= learners_to_go_on)).to_numpy()][-1]
            monday_after = date(1969, 12, 29) + timedelta(days=7 * (int(last_week) + 1))
            # A cohort starts together; in a self-paced course most learners start
            # long after the first ones.
            first_weeks = pd.Series(week).groupby(rows["userid"].to_numpy()).min()
            starting_together = int((first_weeks < first_week + SELF_PACED_WEEKS).sum())
            result[course] = CourseWeeks(
                first_epoch=int(rows["epoch"][week == first_week].min()),
                end_epoch=local_midnight_epoch(monday_after, tz),
                learners=len(first_weeks),
                learners_starting_together=starting_together,
            )
        return result

    def activity_rows(self, courses, modules, course_start) -> None:
        """modules, course_modules, sections (0 and one per planned week) and the module
        instance rows."""
        module_ids = {name: i + 1 for i, name in enumerate(MODULE_NAMES)}
        for name in sorted(set(modules["module"]) - set(module_ids)):
            module_ids[name] = len(module_ids) + 1
        self.tables["modules"] = pd.DataFrame(
            [{"id": i, "name": n, "visible": 1} for n, i in module_ids.items()]
        )
        section_of: dict[int, int] = {}
        sections = []
        for course in sorted(set(courses) - {SITE_COURSE_ID} | set(modules["course"])):
            section_of[course] = len(sections) + 1
            sequence = modules.loc[modules["course"] == course, "cmid"].astype(str)
            sections.append(
                {
                    "id": section_of[course],
                    "course": course,
                    "section": 0,
                    "summary": "",
                    "sequence": ",".join(sequence),
                    "timemodified": course_start.get(course, 0),
                }
            )
        # A weekly course has a section per week (activities stay in section 0:
        # the download does not say where they are).
        for course, weeks in sorted(self.planned_weeks.items()):
            for number in range(1, weeks + 1):
                sections.append(
                    {
                        "id": len(sections) + 1,
                        "course": course,
                        "section": number,
                        "summary": "",
                        "sequence": "",
                        "timemodified": course_start.get(course, 0),
                    }
                )
        self.tables["course_sections"] = pd.DataFrame(sections)
        instances: dict[str, list[dict]] = {}
        cm_rows = []
        self.instance_of: dict[int, tuple[str, int]] = {}
        for cm in modules.itertuples():
            rows = instances.setdefault(cm.module, [])
            instance = len(rows) + 1
            self.instance_of[int(cm.cmid)] = (cm.module, instance)
            row = {
                "id": instance,
                "course": int(cm.course),
                "name": cm.name,
                "timemodified": int(cm.added),
                **INSTANCE_REQUIRED.get(cm.module, {}),
            }
            if cm.module == "forum":
                row["type"] = "news" if cm.name.casefold() in NEWS_FORUM_NAMES else "general"
            rows.append(row)
            cm_rows.append(
                {
                    "id": int(cm.cmid),
                    "course": int(cm.course),
                    "module": module_ids[cm.module],
                    "instance": instance,
                    "section": section_of[int(cm.course)],
                    "added": int(cm.added),
                    "visible": 1,
                }
            )
        self.tables["course_modules"] = pd.DataFrame(cm_rows)
        # Modules without a table here (lesson, folder, ...) keep only course_modules rows.
        self.instance_rows = {m: rows for m, rows in instances.items() if m in MOODLE_TABLES}

    def role_rows(self, frame, courses, learners, teachers, user_ids, context_of, course_start):
        """Roles, and the role assignments and enrolments of each course's people."""
        self.tables["role"] = pd.DataFrame(
            [
                {
                    "id": i,
                    "name": "",
                    "shortname": s,
                    "description": "",
                    "sortorder": i,
                    "archetype": s,
                }
                for i, s in ROLES
            ]
        )
        enrol = self.tables["enrol"]
        enrol_of = dict(zip(enrol.get("courseid", []), enrol.get("id", []), strict=True))
        first_in_course = self.first_events(frame)
        assignments, enrolments = [], {}
        for course in courses:
            if course == SITE_COURSE_ID:
                continue
            for role, people in (
                (EDITING_TEACHER_ROLE_ID, teachers.get(course, set())),
                (STUDENT_ROLE_ID, learners.get(course, set())),
            ):
                for user in sorted(people & user_ids):
                    start = first_in_course.get((course, user), course_start[course])
                    assignments.append(
                        {
                            "id": len(assignments) + 1,
                            "roleid": role,
                            "contextid": context_of[(50, course)],
                            "userid": user,
                            "timemodified": start,
                        }
                    )
                    # One enrolment per person, whatever roles they hold.
                    enrolments[(course, user)] = {
                        "id": len(enrolments) + 1,
                        "status": 0,
                        "enrolid": enrol_of[course],
                        "userid": user,
                        "timestart": start,
                        "timeend": 0,
                        "timecreated": start,
                        "timemodified": start,
                    }
        self.tables["role_assignments"] = pd.DataFrame(assignments)
        rows = list(enrolments.values())
        for index, row in enumerate(rows, start=1):
            row["id"] = index
        self.tables["user_enrolments"] = pd.DataFrame(rows)

    def first_events(self, frame: pd.DataFrame) -> dict[tuple[int, int], int]:
        """(course, user) -> first time the user acts or is affected in the course.

        Clock errors (epoch 0 and times over half a year before the course's
        median time) are passed over, as they would date an enrolment wrongly."""
        acting = frame[["courseid", "userid", "epoch"]]
        affected = frame.loc[frame["relateduserid"].notna(), ["courseid", "relateduserid", "epoch"]]
        affected = affected.rename(columns={"relateduserid": "userid"})
        both = pd.concat([acting, affected.astype({"userid": "int64"})])
        earliest = both.groupby("courseid")["epoch"].transform("median") - HALF_YEAR_SECONDS
        both = both[(both["epoch"] >= earliest) & (both["epoch"] > 0)]
        first = both.groupby(["courseid", "userid"])["epoch"].min()
        return {(int(c), int(u)): int(e) for (c, u), e in first.items()}

    def log_table(self, frame: pd.DataFrame, context_of) -> pd.DataFrame:
        frame = frame.sort_values(["epoch", "order"], ascending=[True, False], kind="stable")
        frame = frame.reset_index(drop=True)
        course = frame["courseid"]
        cmid = frame["cmid"]
        level = pd.Series(frame["e_level"].to_numpy(), index=frame.index)
        kind = frame["ctx_kind"]
        unknown = ~frame["known"]
        level[unknown] = np.select(
            [
                (kind[unknown] == "module") & cmid[unknown].notna(),
                kind[unknown].isin(["course", "front_page"]),
                kind[unknown] == "user",
                kind[unknown] == "system",
                cmid[unknown].notna(),
                course[unknown] > 0,
            ],
            [70, 50, 30, 10, 70, 50],
            default=10,
        )
        level[(level == 70) & cmid.isna()] = 50
        level[(level == 50) & (course == 0)] = 10
        objecttable = frame["e_objecttable"]
        objectid = frame["d_objectid"].fillna(frame["work_objectid"])
        # A module's view events point at its instance row, which the import creates.
        cm_key = cmid.astype("float64")
        instance_module = cm_key.map({cm: m for cm, (m, _) in self.instance_of.items()})
        cm_instance = cm_key.map({cm: i for cm, (_, i) in self.instance_of.items()})
        fill = objectid.isna() & (instance_module == objecttable).fillna(False).astype(bool)
        objectid[fill] = cm_instance[fill]
        fill_course = objectid.isna() & (objecttable == "course") & (course > 0)
        objectid[fill_course] = course[fill_course]
        related = frame["relateduserid"]
        user_instance = (
            objectid.where(objecttable == "user")
            .fillna(related.astype("float64"))
            .fillna(frame["userid"])
        )
        instance_id = np.select(
            [level == 70, level == 50, level == 30],
            [cmid.astype("float64").fillna(0), course, user_instance],
            default=0,
        ).astype("int64")
        context_id = [
            context_of.get((lv, inst), 0) for lv, inst in zip(level, instance_id, strict=True)
        ]
        other = frame["d_other"].copy()
        other[frame["known"] & other.isna()] = "null"
        other[unknown] = [
            json.dumps(
                {"logs_report_component": c, "logs_report_event_name": e}, ensure_ascii=False
            )
            for c, e in zip(
                frame.loc[unknown, "component"], frame.loc[unknown, "event"], strict=True
            )
        ]
        return pd.DataFrame(
            {
                "id": np.arange(1, len(frame) + 1, dtype="int64"),
                "eventname": frame["eventname"],
                "component": frame["e_component"],
                "action": frame["e_action"],
                "target": frame["e_target"],
                "objecttable": objecttable,
                "objectid": objectid.astype("Int64"),
                "crud": frame["e_crud"],
                "edulevel": frame["e_edulevel"].astype("int16"),
                "contextid": np.asarray(context_id, dtype="int64"),
                "contextlevel": level.astype("int64"),
                "contextinstanceid": instance_id,
                "userid": frame["userid"],
                "courseid": course,
                "relateduserid": related,
                "anonymous": np.zeros(len(frame), dtype="int16"),
                "other": other,
                "timecreated": frame["epoch"],
                "origin": frame["origin"].replace("", None),
                "ip": frame["ip"].replace("", None),
                "realuserid": frame["realuserid"],
            }
        )

    def grades_known_at(self, book: Gradebook, newest_row: int) -> int:
        """When a gradebook's grades were known: when it was downloaded (in
        --timezone), else when the newest row of the log downloads was written."""
        if book.downloaded_at is None:
            return newest_row
        moment = pd.Timestamp(book.downloaded_at).tz_localize(
            self.options.timezone, ambiguous=True, nonexistent="shift_forward"
        )
        return int(moment.timestamp())

    def build_grades(self, gradebooks: list[Gradebook], courses, modules, newest_row) -> None:
        categories, items, grades = [], [], []
        for book, course, users in zip(
            gradebooks, self.gradebook_courses, self.gradebook_users, strict=True
        ):
            if course is None:
                continue
            created = int(self.tables["course"].set_index("id").loc[course, "timecreated"])
            graded = self.grades_known_at(book, newest_row)
            category = len(categories) + 1
            categories.append(
                {
                    "id": category,
                    "courseid": course,
                    "depth": 1,
                    "path": f"/{category}/",
                    "fullname": "?",
                    "aggregation": 13,
                    "timecreated": created,
                    "timemodified": created,
                }
            )
            course_modules = modules[modules["course"] == course]
            for position, column in enumerate(book.columns):
                values = [person.grades[position] for person in book.people]
                grademax = self.options.grade_max.get(column.name)
                grademax = grademax or inferred_grademax(values, column.display)
                gradepass = self.options.grade_pass.get(column.name, 0.0)
                item = {
                    "id": len(items) + 1,
                    "courseid": course,
                    "itemname": column.name,
                    "itemtype": column.itemtype,
                    "categoryid": category,
                    "grademax": grademax,
                    "gradepass": gradepass,
                    "sortorder": len(items) + 1,
                    "timecreated": created,
                    "timemodified": created,
                }
                if column.itemtype == "course":
                    item.update(itemname=None, categoryid=None, iteminstance=category)
                elif column.itemtype == "mod":
                    match = course_modules[
                        (course_modules["module"] == column.module)
                        & (course_modules["name"] == column.name)
                    ]
                    if match.empty:
                        self.totals.notes.append(
                            f"{book.path}: {column.header!r} matches no activity in the log; "
                            "kept as a manual item"
                        )
                        item["itemtype"] = "manual"
                    else:
                        module, instance = self.instance_of[int(match["cmid"].iloc[0])]
                        item.update(itemmodule=module, iteminstance=instance, itemnumber=0)
                        self.set_instance_grade(module, instance, grademax)
                items.append(item)
                for user, value in zip(users, values, strict=True):
                    if user is None or value is None:
                        continue
                    grades.append(
                        {
                            "id": len(grades) + 1,
                            "itemid": item["id"],
                            "userid": user,
                            "rawgrade": value,
                            "finalgrade": value,
                            "rawgrademax": grademax,
                            "aggregationstatus": "used",
                            "timecreated": graded,
                            "timemodified": graded,
                        }
                    )
        self.tables["grade_categories"] = pd.DataFrame(categories)
        self.tables["grade_items"] = pd.DataFrame(items)
        self.tables["grade_grades"] = pd.DataFrame(grades)
        for module, rows in self.instance_rows.items():
            self.tables[module] = pd.DataFrame(rows)
        self.totals.grades = len(grades)

    def set_instance_grade(self, module: str, instance: int, grademax: float) -> None:
        if module in ("quiz", "assign"):
            row = self.instance_rows[module][instance - 1]
            row["grade"] = int(grademax) if module == "assign" else grademax

    def write(self, duckdb_path: Path) -> None:
        duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        writer = MoodleDuckDBWriter(duckdb_path, self.options.prefix, self.options.schema)
        try:
            for table, data in self.tables.items():
                writer.append(table, data)
        finally:
            writer.close()

    def count(self, frame, courses, learners, teachers) -> None:
        totals = self.totals
        totals.loaded = len(self.tables["logstore_standard_log"])
        totals.rejects = sorted(self.rejects, key=lambda r: (r.file, r.line))
        totals.rejected = len(self.rejects)
        unknown = frame[~frame["known"]]
        totals.unknown_events = len(unknown)
        totals.unknown_event_names = Counter(
            f"{c} / {e}" for c, e in zip(unknown["component"], unknown["event"], strict=True)
        )
        totals.courses = len(courses)
        totals.users = len(self.tables["user"])
        totals.learners = sum(len(p) for p in learners.values())
        totals.teachers = sum(len(p) for p in teachers.values())
        assert totals.read == totals.loaded + totals.duplicates + totals.rejected


@dataclass(frozen=True)
class CourseWeeks:
    """When a course's learners start (first event) and stop (end of the week)."""

    first_epoch: int
    end_epoch: int
    learners: int = 0
    learners_starting_together: int = 0

    @property
    def is_self_paced(self) -> bool:
        return self.learners >= 5 and 2 * self.learners_starting_together < self.learners


def _local_date(epoch: float, timezone: str) -> str:
    return pd.Timestamp(int(epoch), unit="s", tz="UTC").tz_convert(timezone).date().isoformat()


def _whole_weeks_end(start: int, end: int) -> int:
    """An end a whole number of weeks after the start, give or take the hour a change
    of summer time adds or takes, moved to exactly that many weeks (of 7 x 24 hours):
    the marts count course weeks in such weeks, and a course from a winter Monday to
    a summer Monday would otherwise end one hour into an extra week."""
    if not end or not start:
        return end
    weeks = round((end - start) / WEEK_SECONDS)
    exact = start + weeks * WEEK_SECONDS
    return exact if weeks >= 1 and abs(end - exact) <= 3600 else end


def _weeks_between(start: int, end: int, timezone: str) -> int:
    """Whole weeks (rounded up) between two times, in local dates: a change to or
    from summer time does not add a week."""
    days = (
        date.fromisoformat(_local_date(end, timezone))
        - date.fromisoformat(_local_date(start, timezone))
    ).days
    return max(1, -(-days // 7))


def _pick(candidates: set[int], actor: float) -> float:
    """The one candidate id, else the actor when among them, else unknown."""
    if len(candidates) == 1:
        return float(next(iter(candidates)))
    return actor if actor in candidates else float("nan")


def _module_of_component(component: str) -> str | None:
    if component.startswith("mod_"):
        return component.removeprefix("mod_")
    if component.startswith("assignsubmission_") or component.startswith("assignfeedback_"):
        return "assign"
    if component.startswith("quiz_"):
        return "quiz"
    return None


def _labels(paths: Sequence[Path]) -> list[str]:
    """File names as rejects name them: the name alone unless two files share it."""
    names = [p.name for p in paths]
    return [p.name if names.count(p.name) == 1 else str(p) for p in paths]


def write_rejects(rejects: list[Reject], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "reason", "raw"])
        for reject in rejects:
            writer.writerow([reject.file, reject.line, reject.reason, reject.raw])


def import_logs(
    paths: Sequence[str | Path], duckdb_path: str | Path, options: ImportOptions | None = None
) -> ImportTotals:
    """Load Logs report downloads into Moodle tables in a DuckDB file (recreated)."""
    options = options or ImportOptions()
    duckdb_path = Path(duckdb_path)
    job = LogsReportImport([Path(p) for p in paths], options)
    totals = job.run(duckdb_path)
    rejects_path = options.rejects or duckdb_path.with_name(duckdb_path.stem + "_rejects.csv")
    write_rejects(totals.rejects, rejects_path)
    totals.rejects_path = rejects_path
    return totals


# ------------------------------------------------------------------- CLI
def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (e.g. 2025-09-01)") from None


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown timezone {text!r} (e.g. Europe/Paris, UTC)"
        ) from None
    return text


def _course_date(text: str) -> tuple[str | None, date]:
    """'2025-09-01' (every course) or 'COURSE=2025-09-01' (id, short or full name)."""
    name, _, value = text.rpartition("=")
    return (name.strip() or None, _date(value.strip()))


def _split_course_dates(values: list[tuple[str | None, date]]) -> tuple[date | None, dict]:
    """The bare date (the last one given) and the dates of named courses."""
    bare = [day for name, day in values if name is None]
    return (bare[-1] if bare else None), {name: day for name, day in values if name}


def _dbt_vars(text: str) -> dict:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"--vars is not YAML: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"--vars must be a mapping, e.g. '{{key: 1}}': {text!r}")
    return value


def _grades_file(text: str) -> tuple[str | None, Path]:
    """'grades.csv' or 'COURSE=grades.csv'."""
    if Path(text).is_file() or "=" not in text:
        return (None, Path(text))
    course, _, path = text.partition("=")
    return (course.strip() or None, Path(path))


def _grade_setting(text: str) -> tuple[str, float]:
    """'Quiz 1=10' or '10' (the course total)."""
    name, _, value = text.rpartition("=")
    try:
        return (name.strip() or "Course total", float(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected NUMBER or ITEM NAME=NUMBER, got {text!r}"
        ) from None


EXAMPLE = """\
examples:
  moodle-logs-import logs_ALG101_2024FA.csv logs_ALG101_2025SP.csv --timezone Europe/Paris \\
      --grades ALG101_2025SP_grades.csv --grade-pass 50 --build
  moodle-logs-import logs_ALG101_20250301-1200.csv logs_ALG101_20250601-0900.csv \\
      --timezone Europe/Paris --course-start 2025-02-24 --course-end ALG101=2025-06-27
  make logs-report FILES="a.csv b.csv" TIMEZONE=Europe/Paris   # import, build, dashboard"""


def build_parser() -> argparse.ArgumentParser:
    paragraphs = [textwrap.fill(" ".join(part.split()), 79) for part in __doc__.split("\n\n")]
    parser = argparse.ArgumentParser(
        prog="moodle-logs-import",
        description=paragraphs[1],
        epilog="\n\n".join([*paragraphs[3:6], EXAMPLE]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, help="Logs report downloads (CSV)")
    parser.add_argument(
        "--duckdb",
        type=Path,
        default=Path("data/moodle_source.duckdb"),
        help="DuckDB file to (re)create with the Moodle tables (default: %(default)s, "
        "where `make run` looks)",
    )
    parser.add_argument("--schema", default="public", help="schema of the tables")
    parser.add_argument("--prefix", default="mdl_", help="table prefix")
    when = parser.add_argument_group("time")
    when.add_argument(
        "--timezone",
        type=_timezone,
        default="UTC",
        help="timezone of the user who downloaded the files (default: %(default)s)",
    )
    years = when.add_mutually_exclusive_group()
    years.add_argument(
        "--year",
        type=int,
        help="for times without a year (Moodle up to 2.9): year of each file's oldest row "
        "(the first day after the longest stretch of the year without rows); earlier "
        "day-months take the next year",
    )
    years.add_argument(
        "--term-start",
        type=_date,
        help="for times without a year (Moodle up to 2.9): each day-month takes the year in "
        "which it falls on or after this date (the surest way to date such a download)",
    )
    when.add_argument(
        "--course-start",
        type=_course_date,
        action="append",
        default=[],
        metavar="[COURSE=]DATE",
        help="course start date; COURSE= (id, short or full name) sets one course's, and "
        "may be repeated (default: the Monday of the first week in which a quarter of the "
        "learners take part, so that early enrolments and stray visits do not count)",
    )
    when.add_argument(
        "--course-end",
        type=_course_date,
        action="append",
        default=[],
        metavar="[COURSE=]DATE",
        help="course end date, as --course-start (default: the Monday after the last week "
        "in which a fifth as many learners as at the busiest take part, for a course whose "
        "learners stopped at least 4 weeks before the newest row of the downloads, e.g. last "
        "term's course downloaded with this term's; else none: the course is running); "
        "a bare date also dates times without a year when --term-start and --year are not "
        "given (the download's oldest row falls on or before it)",
    )
    people = parser.add_argument_group("people and grades")
    people.add_argument(
        "--roster",
        type=Path,
        help="CSV of the learners' user ids or full names (optional course column); "
        "without it learners are inferred as described above",
    )
    people.add_argument(
        "--grades",
        type=_grades_file,
        action="append",
        default=[],
        metavar="[COURSE=]FILE",
        help="gradebook export (Grades > Export > Plain text file); may be repeated; its "
        "course is the one whose learners it lists, or COURSE= (id, short or full name)",
    )
    people.add_argument(
        "--grade-max",
        type=_grade_setting,
        action="append",
        default=[],
        metavar="[ITEM=]NUMBER",
        help="maximum grade of an item (default: 10, 20 or 100, the smallest no grade "
        "exceeds); a bare number is the course total's",
    )
    people.add_argument(
        "--grade-pass",
        type=_grade_setting,
        action="append",
        default=[],
        metavar="[ITEM=]NUMBER",
        help="pass grade of an item; a bare number is the course total's",
    )
    parser.add_argument(
        "--rejects",
        type=Path,
        help="CSV of rows that could not be read: file, line, reason, raw "
        "(default: <duckdb name>_rejects.csv beside the DuckDB file)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the totals line")
    build = parser.add_argument_group("build")
    build.add_argument(
        "--build",
        action="store_true",
        help="then run `dbt build --full-refresh` on the tables written and report each "
        "course's learners and how risk was scored",
    )
    build.add_argument(
        "--dbt-output",
        action="store_true",
        help="show every line dbt prints (default: its problems and outcome; the rest is "
        "in logs/dbt.log)",
    )
    build.add_argument(
        "--project-dir",
        type=Path,
        help="dbt project to build (default: the one this command comes with)",
    )
    build.add_argument(
        "--vars",
        type=_dbt_vars,
        default={},
        metavar="YAML",
        help="dbt variables for the build, as dbt's --vars, e.g. '{weeks_when_no_end_date: 12}'",
    )
    build.add_argument(
        "--warehouse",
        type=Path,
        help="DuckDB file dbt builds into (default: $MOODLE_ANALYTICS_DUCKDB, else "
        "data/moodle_analytics.duckdb in the project)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    grades = [path for _, path in args.grades]
    for path in [*args.files, *grades, *([args.roster] if args.roster else [])]:
        if not path.is_file():
            parser.error(f"no such file: {path}")
    course_start, course_starts = _split_course_dates(args.course_start)
    course_end, course_ends = _split_course_dates(args.course_end)
    options = ImportOptions(
        timezone=args.timezone,
        year=args.year,
        term_start=args.term_start,
        course_start=course_start,
        course_end=course_end,
        course_starts=course_starts,
        course_ends=course_ends,
        roster=args.roster,
        grades=grades,
        grade_courses={str(path): course for course, path in args.grades if course},
        grade_max=dict(args.grade_max),
        grade_pass=dict(args.grade_pass),
        rejects=args.rejects,
        schema=args.schema,
        prefix=args.prefix,
    )
    try:
        totals = import_logs(args.files, args.duckdb, options)
    except (OSError, ValueError) as error:
        print(f"moodle-logs-import: error: {error}", file=sys.stderr)
        return 2
    summary = totals.summary()
    print(summary.splitlines()[0] if args.quiet else summary)
    print(f"moodle-logs-import: tables written to {args.duckdb}; rejects in {totals.rejects_path}")
    if not totals.loaded and totals.read:
        return 1
    if not args.build:
        return 0
    try:
        result = run_dbt_build(
            args.duckdb,
            project=args.project_dir,
            warehouse=args.warehouse,
            schema=args.schema,
            prefix=args.prefix,
            variables=args.vars,
            brief=not args.dbt_output,
        )
    except (OSError, duckdb.Error) as error:
        print(f"moodle-logs-import: error: {error}", file=sys.stderr)
        return 2
    if result.returncode:
        print(f"moodle-logs-import: dbt build failed ({result.returncode})", file=sys.stderr)
        return result.returncode
    print(f"moodle-logs-import: marts built in {result.warehouse}")
    for line in result.report:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
