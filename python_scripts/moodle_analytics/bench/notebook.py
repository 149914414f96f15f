"""The notebook way: the learner-week features of fct_learner_weeks in pandas.

What an analyst would write in a notebook instead of this project: load the
Moodle tables into DataFrames, keep the learners as the project defines them
(a student role in the course, an active enrolment, no staff role, not the
guest), keep their log events inside the enrolment, cut sessions at the
session gap, and group by course week over a spine of every followed week.
It is written as a careful analyst would: only the columns it needs,
vectorised, no Python loops; the settings come from dbt_project.yml's vars.

Run as a module, in its own process, so that its time and memory are
measured like the build's; it writes the features to a Parquet file that the
benchmark compares with the mart:

    python -m moodle_analytics.bench.notebook --source S --out features.parquet
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from moodle_analytics.event_catalogue import CATALOGUE_PATH
from moodle_analytics.pseudonyms import build_secret, pseudonym

PROJECT_DIR = Path(__file__).resolve().parents[3]
WEEK = 604800
DAY = 86400
# Moodle's "no end" for an enrolment.
ENDLESS = 2147483647
EARLIEST_PLAUSIBLE = 946684800  # 2000-01-01

# The mart's columns that the notebook computes too, compared one by one.
FEATURE_COLUMNS = [
    "events",
    "read_events",
    "write_events",
    "active_days",
    "sessions",
    "minutes_on_task",
    "distinct_activities",
    "quiz_attempts",
    "forum_discussions_started",
    "forum_replies",
    "cumulative_events",
    "cumulative_active_days",
    "cumulative_sessions",
    "cumulative_minutes_on_task",
    "days_inactive_at_week_end",
    "is_active",
]
KEY_COLUMNS = ["learner_course_id", "course_week_number"]

# Moodle table -> the columns the features need.
TABLE_COLUMNS = {
    "logstore_standard_log": (
        "id, eventname, component, crud, edulevel, contextlevel, contextinstanceid, userid, "
        "courseid, realuserid, anonymous, objecttable, objectid, timecreated"
    ),
    "user": "id, username",
    "course": "id, format, idnumber, startdate, enddate",
    "course_sections": "course, section",
    "role_assignments": "userid, contextid, roleid",
    "context": "id, contextlevel, instanceid",
    "role": "id, shortname",
    "user_enrolments": "userid, enrolid, timestart, timeend, timecreated",
    "enrol": "id, courseid",
}


@dataclass
class Settings:
    learner_roles: list[str]
    staff_roles: list[str]
    session_gap_seconds: int
    weeks_when_no_end_date: int
    future_tolerance_seconds: int
    as_of_epoch: int | None

    @classmethod
    def from_project(cls, project_dir: Path = PROJECT_DIR) -> Settings:
        variables = yaml.safe_load((project_dir / "dbt_project.yml").read_text())["vars"]
        as_of = variables.get("as_of")
        return cls(
            learner_roles=list(variables["learner_role_shortnames"]),
            staff_roles=list(variables["staff_role_shortnames"]),
            session_gap_seconds=int(variables["session_gap_minutes"]) * 60,
            weeks_when_no_end_date=int(variables["weeks_when_no_end_date"]),
            future_tolerance_seconds=int(variables["future_event_tolerance_days"]) * DAY,
            as_of_epoch=int(pd.Timestamp(as_of, tz="UTC").timestamp()) if as_of else None,
        )


def load_tables(source: Path, schema: str = "public", prefix: str = "mdl_") -> dict:
    """The Moodle tables the features need, as DataFrames named by Moodle table."""
    with duckdb.connect(str(source), read_only=True) as connection:
        tables = {
            table: connection.execute(f'select {columns} from {schema}."{prefix}{table}"').df()
            for table, columns in TABLE_COLUMNS.items()
        }
    tables["event_catalogue"] = pd.read_csv(CATALOGUE_PATH)
    return tables


def course_learners(tables: dict, settings: Settings) -> pd.DataFrame:
    """One row per learner-course, as int_course_learners defines them (epoch seconds)."""
    contexts = tables["context"]
    holders = (
        tables["role_assignments"]
        .merge(
            contexts.loc[contexts["contextlevel"] == 50, ["id", "instanceid"]],
            left_on="contextid",
            right_on="id",
        )
        .merge(tables["role"], left_on="roleid", right_on="id", suffixes=("", "_role"))
        .rename(columns={"instanceid": "courseid"})[["userid", "courseid", "shortname"]]
    )
    learners = holders.loc[
        holders["shortname"].isin(settings.learner_roles), ["userid", "courseid"]
    ].drop_duplicates()
    staff = holders.loc[
        holders["shortname"].isin(settings.staff_roles), ["userid", "courseid"]
    ].drop_duplicates()

    enrolments = tables["user_enrolments"].merge(
        tables["enrol"][["id", "courseid"]], left_on="enrolid", right_on="id"
    )
    enrolments["starts"] = np.where(
        enrolments["timestart"] > 0,
        enrolments["timestart"],
        np.where(enrolments["timecreated"] > 0, enrolments["timecreated"], np.nan),
    )
    enrolments["ends"] = enrolments["timeend"].where(
        (enrolments["timeend"] > 0) & (enrolments["timeend"] < ENDLESS)
    )
    per_course = enrolments.groupby(["userid", "courseid"]).agg(
        enrolled_at=("starts", "min"),
        enrolments=("starts", "size"),
        enrolments_with_end=("ends", "count"),
        latest_end=("ends", "max"),
    )
    # One open-ended enrolment makes the learner's enrolment open-ended.
    per_course["enrolment_ends_at"] = per_course["latest_end"].where(
        per_course["enrolments"] == per_course["enrolments_with_end"]
    )
    per_course = per_course.reset_index()[
        ["userid", "courseid", "enrolled_at", "enrolment_ends_at"]
    ]

    sections = tables["course_sections"]
    expected_weeks = (
        sections[sections["section"] > 0].groupby("course").size().rename("sections").reset_index()
    )
    users = tables["user"]
    courses = tables["course"]
    joined = (
        learners.merge(per_course, on=["userid", "courseid"])
        .merge(users.loc[users["username"] != "guest", ["id"]], left_on="userid", right_on="id")
        .drop(columns="id")
        .merge(
            courses.loc[courses["format"] != "site", ["id", "startdate", "enddate"]],
            left_on="courseid",
            right_on="id",
        )
        .drop(columns="id")
        .merge(expected_weeks, left_on="courseid", right_on="course", how="left")
        .drop(columns="course")
        .merge(staff.assign(is_staff=True), on=["userid", "courseid"], how="left")
    )
    joined = joined[joined["is_staff"].isna()].copy()
    joined["week_one_starts_at"] = joined["startdate"].where(
        joined["startdate"] > 0, joined["enrolled_at"]
    )
    weeks = joined["sections"].fillna(settings.weeks_when_no_end_date)
    joined["course_ends_at"] = joined["enddate"].where(
        joined["enddate"] > 0, joined["week_one_starts_at"] + WEEK * weeks
    )
    return joined[
        [
            "userid",
            "courseid",
            "enrolled_at",
            "enrolment_ends_at",
            "week_one_starts_at",
            "course_ends_at",
        ]
    ].reset_index(drop=True)


def learner_events(tables: dict, learners: pd.DataFrame, settings: Settings, now: int):
    """The log events that count for learners, with their session fields; and as-of."""
    log = tables["logstore_standard_log"]
    plausible_until = now + settings.future_tolerance_seconds
    as_of = settings.as_of_epoch
    if as_of is None:
        as_of = int(log.loc[log["timecreated"] <= plausible_until, "timecreated"].max())
    # A log glued together twice holds rows twice: keep the first copy of each id.
    log = log.sort_values(["id", "timecreated", "eventname", "userid"]).drop_duplicates("id")
    logged_in_as = log["realuserid"].notna() & (log["realuserid"] != log["userid"])
    log = log[
        (log["timecreated"] >= EARLIEST_PLAUSIBLE)
        & (log["timecreated"] <= plausible_until)
        & (log["timecreated"] <= as_of)
        & (log["anonymous"] != 1)
        & ~logged_in_as
        & log["courseid"].notna()
    ].astype({"courseid": "int64"})
    events = log.merge(learners, on=["userid", "courseid"])
    # Comparisons with a missing bound are false, as in SQL: no bound, no exclusion.
    moment = events["timecreated"]
    inside = (
        ~(moment < events["enrolled_at"])
        & ~(moment >= events["enrolment_ends_at"])
        & ~(moment >= events["course_ends_at"])
    )
    events = events[inside]

    catalogue = tables["event_catalogue"][
        ["event_name", "activity_type", "analytics_action", "counts_as_activity"]
    ]
    events = events.merge(catalogue, left_on="eventname", right_on="event_name", how="left")
    component = events["component"].astype(str)
    fallback_type = np.where(component.str.startswith("mod_"), component.str[4:], "course")
    events["activity_type"] = events["activity_type"].fillna(pd.Series(fallback_type, events.index))
    fallback_action = np.where(events["crud"] == "r", "view", "write")
    events["analytics_action"] = events["analytics_action"].fillna(
        pd.Series(fallback_action, events.index)
    )
    events["counts"] = (
        events["counts_as_activity"].astype("boolean").fillna(events["edulevel"] == 2).astype(bool)
    )
    events["course_module_id"] = events["contextinstanceid"].where(events["contextlevel"] == 70)
    # Activity between enrolment and the course start counts in week 1.
    raw_week = (events["timecreated"] - events["week_one_starts_at"]) // WEEK + 1
    events = events[raw_week.notna()]
    events["course_week_number"] = raw_week[raw_week.notna()].clip(lower=1).astype("int64")

    # Sessions: a gap longer than the session gap starts a new one.
    events = events.sort_values(["userid", "courseid", "timecreated", "id"])
    gap = events["timecreated"].diff()
    same_learner = (events["userid"].diff() == 0) & (events["courseid"].diff() == 0)
    gap = gap.where(same_learner)
    events["is_session_start"] = gap.isna() | (gap > settings.session_gap_seconds)
    events["seconds_since_previous"] = gap.where(~events["is_session_start"], 0)
    return events, as_of


def weekly_features(events: pd.DataFrame) -> pd.DataFrame:
    counts = events["counts"]
    frame = pd.DataFrame(
        {
            "userid": events["userid"],
            "courseid": events["courseid"],
            "course_week_number": events["course_week_number"],
            "events": counts.astype("int64"),
            "read_events": (counts & (events["crud"] == "r")).astype("int64"),
            "write_events": (counts & (events["crud"] != "r")).astype("int64"),
            "active_day": (events["timecreated"] // DAY).where(counts),
            "activity": events["course_module_id"].where(counts),
            "sessions": events["is_session_start"].astype("int64"),
            "seconds_on_task": events["seconds_since_previous"],
            "quiz_attempts": (events["analytics_action"] == "attempt_submit").astype("int64"),
            "forum_discussions_started": (events["analytics_action"] == "discussion_create").astype(
                "int64"
            ),
            "forum_post": events["objectid"].where(events["objecttable"] == "forum_posts"),
            "last_activity_at": events["timecreated"].where(counts),
        }
    )
    grouped = frame.groupby(["userid", "courseid", "course_week_number"])
    return grouped.agg(
        events=("events", "sum"),
        read_events=("read_events", "sum"),
        write_events=("write_events", "sum"),
        active_days=("active_day", "nunique"),
        distinct_activities=("activity", "nunique"),
        sessions=("sessions", "sum"),
        seconds_on_task=("seconds_on_task", "sum"),
        quiz_attempts=("quiz_attempts", "sum"),
        forum_discussions_started=("forum_discussions_started", "sum"),
        forum_posts=("forum_post", "nunique"),
        last_activity_at=("last_activity_at", "max"),
    ).reset_index()


def week_spine(learners: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Every week of each learner's enrolment up to the course end or as-of."""
    enrolled = learners["enrolled_at"].to_numpy(dtype="float64")
    ends = learners["enrolment_ends_at"].to_numpy(dtype="float64")
    course_ends = learners["course_ends_at"].to_numpy(dtype="float64")
    week_one = learners["week_one_starts_at"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        followed_until = np.where(
            (ends < course_ends) & (ends < as_of),
            ends,
            np.where(course_ends < as_of, course_ends, as_of),
        )
        first = np.where(enrolled <= week_one, 1, (enrolled - week_one) // WEEK + 1)
        first[np.isnan(enrolled) | np.isnan(week_one)] = np.nan
        last = np.minimum((followed_until - 1 - week_one) // WEEK + 1, 9999)
        valid = ~(np.isnan(first) | np.isnan(last)) & (last >= first)
    first, last = first[valid].astype("int64"), last[valid].astype("int64")
    kept = learners[valid].reset_index(drop=True)
    lengths = last - first + 1
    rows = np.repeat(np.arange(len(kept)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    spine = kept.iloc[rows].reset_index(drop=True)
    spine["course_week_number"] = np.repeat(first, lengths) + offsets
    return spine


def round_half_away(values: pd.Series, digits: int) -> pd.Series:
    """SQL's round(): halves away from zero (pandas rounds them to even)."""
    scaled = values * 10**digits
    return np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / 10**digits


def learner_keys(tables: dict, weeks: pd.DataFrame) -> pd.Series:
    """The marts' learner_course_id: the learner's pseudonym (hashed once per learner), course."""
    courses = tables["course"]
    front_page = courses.loc[courses["format"] == "site", "idnumber"]
    secret = build_secret(front_page.iloc[0] if len(front_page) else None)
    learners = weeks["userid"].drop_duplicates()
    learner_ids = pd.Series([pseudonym(secret, user) for user in learners], index=learners.values)
    return weeks["userid"].map(learner_ids) + "-" + weeks["courseid"].astype(str)


def learner_week_features(tables: dict, settings: Settings, now: int) -> pd.DataFrame:
    learners = course_learners(tables, settings)
    events, as_of = learner_events(tables, learners, settings, now)
    weekly = weekly_features(events)
    del events
    spine = week_spine(learners, as_of)
    weeks = spine.merge(weekly, on=["userid", "courseid", "course_week_number"], how="left")
    counted = [
        "events",
        "read_events",
        "write_events",
        "active_days",
        "distinct_activities",
        "sessions",
        "seconds_on_task",
        "quiz_attempts",
        "forum_discussions_started",
        "forum_posts",
    ]
    weeks[counted] = weeks[counted].fillna(0).astype("int64")
    weeks = weeks.sort_values(["userid", "courseid", "course_week_number"]).reset_index(drop=True)
    by_learner = weeks.groupby(["userid", "courseid"], sort=False)
    for column in ("events", "active_days", "sessions", "seconds_on_task"):
        weeks[f"cumulative_{column}"] = by_learner[column].cumsum()
    last_so_far = (
        weeks["last_activity_at"]
        .fillna(-1)
        .groupby([weeks["userid"], weeks["courseid"]], sort=False)
        .cummax()
    )
    last_so_far = last_so_far.where(last_so_far >= 0)
    week_ends = weeks["week_one_starts_at"] + WEEK * weeks["course_week_number"]
    measured_until = np.minimum(week_ends, as_of)
    since = last_so_far.fillna(weeks["enrolled_at"])
    features = pd.DataFrame(
        {
            "learner_course_id": learner_keys(tables, weeks),
            "course_week_number": weeks["course_week_number"].astype("int64"),
            "events": weeks["events"],
            "read_events": weeks["read_events"],
            "write_events": weeks["write_events"],
            "active_days": weeks["active_days"],
            "sessions": weeks["sessions"],
            "minutes_on_task": round_half_away(weeks["seconds_on_task"] / 60.0, 1),
            "distinct_activities": weeks["distinct_activities"],
            "quiz_attempts": weeks["quiz_attempts"],
            "forum_discussions_started": weeks["forum_discussions_started"],
            "forum_replies": weeks["forum_posts"] - weeks["forum_discussions_started"],
            "cumulative_events": weeks["cumulative_events"],
            "cumulative_active_days": weeks["cumulative_active_days"],
            "cumulative_sessions": weeks["cumulative_sessions"],
            "cumulative_minutes_on_task": round_half_away(
                weeks["cumulative_seconds_on_task"] / 60.0, 1
            ),
            # Calendar days (UTC), an end at 23:59:59 closing its day (calendar_days_between).
            "days_inactive_at_week_end": (
                np.floor((measured_until + 1) / DAY) - np.floor(since / DAY)
            ),
            "is_active": weeks["events"] > 0,
        }
    )
    return features


def compare_with_mart(features: pd.DataFrame, mart: pd.DataFrame) -> dict:
    """Whether the notebook's numbers equal the mart's, column by column."""
    merged = features.merge(
        mart, on=KEY_COLUMNS, how="outer", suffixes=("_notebook", "_mart"), indicator=True
    )
    both = merged[merged["_merge"] == "both"]
    mismatches = {}
    for column in FEATURE_COLUMNS:
        left = both[f"{column}_notebook"].astype("float64")
        right = both[f"{column}_mart"].astype("float64")
        differs = ~(np.isclose(left, right, rtol=0, atol=1e-6) | (left.isna() & right.isna()))
        if differs.any():
            mismatches[column] = int(differs.sum())
    only_notebook = int((merged["_merge"] == "left_only").sum())
    only_mart = int((merged["_merge"] == "right_only").sum())
    return {
        "learner_weeks_compared": len(both),
        "only_in_notebook": only_notebook,
        "only_in_mart": only_mart,
        "columns_compared": FEATURE_COLUMNS,
        "mismatched_rows_per_column": mismatches,
        "equal": not mismatches and only_notebook == 0 and only_mart == 0,
    }


def read_mart(warehouse: Path, schema: str = "analytics_marts") -> pd.DataFrame:
    columns = ", ".join(KEY_COLUMNS + FEATURE_COLUMNS)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(f"select {columns} from {schema}.fct_learner_weeks").df()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moodle_analytics.bench.notebook")
    parser.add_argument("--source", type=Path, required=True, help="Moodle source DuckDB file")
    parser.add_argument("--out", type=Path, required=True, help="Parquet file of the features")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    settings = Settings.from_project(args.project_dir)
    tables = load_tables(args.source)
    loaded = time.perf_counter()
    features = learner_week_features(tables, settings, int(time.time()))
    done = time.perf_counter()
    features.to_parquet(args.out, index=False)
    print(
        f"notebook: {len(features):,} learner-weeks; load {loaded - started:.1f} s, "
        f"features {done - loaded:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
