"""One import of Logs report downloads: files in, Moodle's tables out.

LogsReportImport runs the steps in the order of run(): read the files
(reading.py, spreadsheets.py), place their times (times.py), drop rows that
overlapping downloads repeat, interpret each row (events.py), resolve people
(people.py), courses and activities (courses.py), write Moodle's tables
(tables.py, coursework.py) and the gradebooks (grade_tables.py). Its totals
always add up: read = loaded + duplicates + rejected.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from moodle_analytics.logs_report.courses import CourseSteps
from moodle_analytics.logs_report.events import (
    EventMapper,
    classify_unknown,
    parse_context,
    parse_descriptions,
    unknown_class_name,
)
from moodle_analytics.logs_report.grade_tables import GradeSteps
from moodle_analytics.logs_report.gradebook import read_gradebook
from moodle_analytics.logs_report.people import PeopleSteps
from moodle_analytics.logs_report.reading import Reject, empty_frame, read_download
from moodle_analytics.logs_report.tables import TableSteps
from moodle_analytics.logs_report.times import (
    fill_missing_years,
    order_day_month,
    split_times,
    to_epoch,
)
from moodle_analytics.moodle_sink import MoodleDuckDBWriter

TEXT_COLUMNS = (
    "time", "user", "affected", "context", "component", "event", "description", "origin", "ip",
)  # fmt: skip
DUPLICATE_KEY = ("epoch", *TEXT_COLUMNS[1:])


@dataclass
class ImportOptions:
    timezone: str = "UTC"
    # 'dmy' or 'mdy' for numeric dates; None: told by each download's dates.
    date_order: str | None = None
    # Header text (normalised) -> column key, for headers in other languages.
    columns: dict[str, str] = field(default_factory=dict)
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
        # Every unknown name, so that a plugin's events can be added to the catalogue.
        for name, count in self.unknown_event_names.most_common():
            lines.append(f"  unknown: {name} ({count:,})")
        for reject in self.rejects[:20]:
            lines.append(f"  rejected {reject.file}:{reject.line}: {reject.reason}")
        if len(self.rejects) > 20:
            lines.append(f"  ... {len(self.rejects) - 20:,} more in {self.rejects_path}")
        lines += [f"  warning: {warning}" for warning in self.warnings]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


class LogsReportImport(PeopleSteps, CourseSteps, TableSteps, GradeSteps):
    """One import: files in, Moodle tables out. Steps run in the order of run();
    each purpose's steps are in their own module (the base classes)."""

    def __init__(self, paths: Sequence[Path], options: ImportOptions):
        self.paths = [Path(p) for p in paths]
        self.options = options
        self.totals = ImportTotals(files=len(self.paths))
        self.rejects: list[Reject] = []
        self.mapper = EventMapper()
        self.tables: dict[str, pd.DataFrame] = {}
        self.next_synthetic_user = 0
        self.ids_by_seen_name: dict[str, set[int]] = {}

    def read(self) -> pd.DataFrame:
        frames = []
        labels = _labels(self.paths)
        for path, label in zip(self.paths, labels, strict=True):
            frame, rejects = read_download(path, label, self.options.columns)
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
        options = self.options
        order_day_month(parts, frame["file"], options.date_order)
        yearless = parts["year"].isna() & parts["month"].notna()
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
        self.settle_shared_names(frame)
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

    def settle_shared_names(self, frame: pd.DataFrame) -> None:
        """Rows whose (Component, Event name) several classes share take the class
        their Description fits best (EventMapper.best_of)."""
        shared = {
            pair: found
            for pair in frame[["component", "event"]].drop_duplicates().itertuples(index=False)
            if len(found := self.mapper.candidates(*pair)) > 1
        }
        for (component, event), found in shared.items():
            rows = frame.index[(frame["component"] == component) & (frame["event"] == event)]
            for index in rows:
                best = self.mapper.best_of(found, frame.at[index, "description"])
                frame.loc[index, ["eventname", "e_component", "e_action", "e_target",
                                  "e_objecttable", "e_crud", "e_edulevel", "e_level"]] = [
                    best.event_name, best.component, best.action, best.target,
                    best.object_table, best.crud, best.edulevel, best.context_level,
                ]  # fmt: skip

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
