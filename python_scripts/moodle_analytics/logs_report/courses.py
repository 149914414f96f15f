"""Courses, activities and course dates of an import.

A course id comes from the Description, else from the Course column of a
site-level download, else from the download itself (a course download holds
one course). Activities are the course module ids of the Description, else
(ids masked) the Event context's activity within its course. Course dates:
see learner_weeks and the command's description (load.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from moodle_analytics.logs_report.common import (
    IMPORT_CATEGORY_ID,
    SITE_COURSE_ID,
    STUDENT_ROLE_ID,
    mode_map,
)
from moodle_analytics.logs_report.report_format import MASKED_NAMES
from moodle_analytics.logs_report.times import local_midnight_epoch, monday_of_week_epoch

# A course whose learners stopped taking part this long before the newest row
# of the downloads has ended (see learner_weeks); a shorter pause is a break.
FINISHED_AFTER_SECONDS = 28 * 24 * 3600
WEEK_SECONDS = 7 * 24 * 3600
# Learners who first take part within this many weeks of the start started together.
SELF_PACED_WEEKS = 3
# Downloads of one course id further apart than this are different terms' offerings.
OFFERING_GAP_SECONDS = 8 * 7 * 24 * 3600
EARLIEST_PLAUSIBLE_EPOCH = 946684800  # 2000-01-01: earlier times are clock errors


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


def _most_common(values: pd.Series) -> str | None:
    values = values.dropna()
    return values.mode().iloc[0] if len(values) else None


def _terms(files: pd.DataFrame) -> list[pd.DataFrame]:
    """One course's downloads (in order of their first row) grouped into terms: a
    download joins the term before when the course's name agrees (or is unknown)
    and it starts within OFFERING_GAP_SECONDS of that term's last row."""
    terms: list[list[int]] = []
    last, name = None, None
    for position, row in enumerate(files.itertuples(index=False)):
        same_name = row.name is None or name is None or row.name == name
        if terms and same_name and row.first <= last + OFFERING_GAP_SECONDS:
            terms[-1].append(position)
            last = max(last, row.last)
            name = name or row.name
        else:
            terms.append([position])
            last, name = row.last, row.name
    return [files.iloc[positions] for positions in terms]


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


def _module_of_component(component: str) -> str | None:
    if component.startswith("mod_"):
        return component.removeprefix("mod_")
    if component.startswith("assignsubmission_") or component.startswith("assignfeedback_"):
        return "assign"
    if component.startswith("quiz_"):
        return "quiz"
    return None


class CourseSteps:
    """The steps of an import (LogsReportImport) about courses and activities."""

    def resolve_courses(self, frame: pd.DataFrame) -> dict[int, dict]:
        """courseid of each row; returns course id -> {fullname, shortname} of the
        courses that exist."""
        course_text = frame["d_courseid"]
        site = frame["site_level"].astype(bool)
        label = frame["course"].where(site & ~frame["course"].isin(MASKED_NAMES))
        label_ids = mode_map(pd.DataFrame({"label": label, "id": course_text}), "label", "id")
        next_course = int(course_text.max()) + 1 if course_text.notna().any() else 2
        for text in sorted(set(label.dropna()) - set(label_ids)):
            label_ids[text] = next_course  # a course seen only by its short name
            next_course += 1
        # A course download holds one course: the one its sentences name most.
        file_course = mode_map(
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
        offerings = self.split_offerings(frame, next_course)

        # Courses that exist: those a course context name, a Course column or
        # a course download points at. Ids seen only in rows whose context
        # Moodle could not find ("Other") are deleted or never were.
        in_course = frame["ctx_kind"] == "course"
        names = pd.DataFrame({"name": frame["ctx_name"][in_course], "id": frame["courseid"]})
        id_by_course_name = mode_map(names.dropna(), "name", "id")
        name_by_id = mode_map(
            pd.DataFrame(
                {"id": list(id_by_course_name.values()), "name": list(id_by_course_name.keys())}
            ),
            "id",
            "name",
        )
        existing = set(id_by_course_name.values()) | set(label_ids.values())
        existing |= {c for f, c in file_course.items() if f in set(frame.loc[~site, "file"])}
        existing |= set(offerings)
        name_by_id.update(offerings)
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

    def split_offerings(self, frame: pd.DataFrame, next_course: int) -> dict[int, str | None]:
        """Give each term's offering of a course its own course id (and activity ids).

        Downloads of one Moodle course (one id) from different terms are different
        offerings: their learners, dates and outcomes are not one course's. Downloads
        of one id go together when they name the course alike and each starts
        within OFFERING_GAP of the end of the ones before it (overlapping or
        consecutive downloads of one term); else the later ones are another
        offering, with a new course id. Returns new course id -> its name."""
        in_course = frame["ctx_kind"] == "course"
        per_file = (
            pd.DataFrame(
                {
                    "course": frame["courseid"],
                    "file": frame["file"],
                    "epoch": frame["epoch"],
                    "name": frame["ctx_name"].where(in_course),
                }
            )
            .loc[frame["courseid"] > SITE_COURSE_ID]
            .groupby(["course", "file"])
            .agg(first=("epoch", "min"), last=("epoch", "max"), name=("name", _most_common))
            .reset_index()
            .sort_values(["course", "first", "file"])
        )
        new_courses: dict[int, str | None] = {}
        next_cmid = int(frame["d_cmid"].max()) + 1 if frame["d_cmid"].notna().any() else 1
        tz = self.options.timezone
        for course, files in per_file.groupby("course"):
            terms = _terms(files)
            if len(terms) < 2:
                continue
            ids = [int(course)]
            for term in terms[1:]:
                rows = (frame["courseid"] == course) & frame["file"].isin(term["file"])
                frame.loc[rows, "courseid"] = next_course
                new_courses[next_course] = _most_common(term["name"])
                cms = sorted(set(frame.loc[rows, "d_cmid"].dropna()))
                renumbered = {cm: float(next_cmid + i) for i, cm in enumerate(cms)}
                frame.loc[rows, "d_cmid"] = frame.loc[rows, "d_cmid"].map(renumbered)
                next_cmid += len(cms)
                ids.append(next_course)
                next_course += 1
            spans = [
                f"course {new}: {', '.join(term['file'])} ({_local_date(term['first'].min(), tz)}"
                f" to {_local_date(term['last'].max(), tz)})"
                for new, term in zip(ids, terms, strict=True)
            ]
            self.totals.notes.append(
                f"course {course} comes in downloads of {len(terms)} terms, kept as separate "
                "offerings (activities renumbered too): " + "; ".join(spans)
            )
        return new_courses

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
                "course": pd.Series(mode_map(cms, "cmid", "courseid")),
                "module": pd.Series(mode_map(cms, "cmid", "module")),
                "name": pd.Series(mode_map(cms, "cmid", "name")),
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
        known = mode_map(keys, "key", "cmid")
        next_cmid = int(cmid.max()) + 1 if cmid.notna().any() else 1
        for key in sorted(set(keys.loc[missing[in_module].to_numpy(), "key"]) - set(known)):
            known[key] = next_cmid
            next_cmid += 1
        cmid[missing] = keys.loc[missing[in_module].to_numpy(), "key"].map(known).to_numpy()
        return cmid

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
