"""Logs report downloads: written from a demo database, loaded back, compared.

A small demo site is generated once; export.py writes its course (and site)
log as Moodle's Logs report download in every variant real files show, and
moodle-logs-import loads them. Checks compare the loaded tables with the
source database, and learner-week counts with counts taken from the CSV text
itself (parsed here with the csv module, not with the loader).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dbt_project import generate_demo_site
from moodle_analytics.logs_report.export import (
    FRENCH_EVENT_NAMES,
    ExportOptions,
    export_logs_report,
)
from moodle_analytics.logs_report.importer import ImportOptions, import_logs
from moodle_analytics.logs_report.load import build_parser
from moodle_analytics.logs_report.load import main as import_main
from moodle_analytics.logs_report.report_format import (
    TIME_FORMAT_MINUTES,
    TIME_FORMAT_NO_YEAR,
)
from moodle_analytics.moodle_db.tables import MOODLE_TABLES

WEEK = 7 * 24 * 3600
STUDENT, STAFF_ROLES = 5, (1, 2, 3, 4)
COURSE_START = date(2026, 9, 21)  # Monday of the demo term's first week, see demo_site
REORDERED = [
    "Description", "Time", "Event name", "Component", "Event context",
    "User full name", "IP address", "Origin", "Affected user",
]  # fmt: skip


class Database:
    """A read-only connection to Moodle tables written by the generator or the loader."""

    def __init__(self, path: Path):
        self.path = path
        self.con = duckdb.connect(str(path), read_only=True)

    def rows(self, query: str, *parameters) -> list[tuple]:
        return self.con.execute(query, list(parameters)).fetchall()

    def one(self, query: str, *parameters):
        return self.con.execute(query, list(parameters)).fetchone()[0]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Database:
    options = "--terms 1 --courses-per-term 2 --learners-per-course 10 --weeks 5 --current-week 5"
    source = generate_demo_site(tmp_path_factory.mktemp("logs_report_demo"), f"{options} --seed 11")
    return Database(source)


@pytest.fixture(scope="module")
def course_id(demo_site: Database) -> int:
    """The teaching course with the most log rows."""
    return demo_site.one(
        "SELECT l.courseid FROM public.mdl_logstore_standard_log l "
        "JOIN public.mdl_course c ON c.id = l.courseid WHERE c.format <> 'site' "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )


def export(database: Database, path: Path, course: int | None, **options) -> Path:
    options.setdefault("site_level", course is None)
    export_logs_report(database.con, path, course, ExportOptions(**options))
    return path


def load(paths: list[Path], target: Path, **options):
    """Import the files; the loaded tables and the import's totals."""
    options.setdefault("rejects", target.with_suffix(".rejects.csv"))
    totals = import_logs(paths, target, ImportOptions(**options))
    return Database(target), totals


LOG_KEY = (
    "SELECT eventname, userid, timecreated // {unit} * {unit}, "
    "CASE WHEN contextlevel = 70 THEN contextinstanceid END "
    "FROM public.mdl_logstore_standard_log WHERE {where}"
)


def log_rows(database: Database, where: str, unit: int = 1) -> Counter:
    return Counter(database.rows(LOG_KEY.format(unit=unit, where=where)))


# Students of a course (the course of the first parameter), and holders of a staff
# role in the same context as a student role (``ra``).
COURSE_STUDENTS = """
    SELECT ra.userid FROM public.mdl_role_assignments ra
    JOIN public.mdl_context x ON x.id = ra.contextid
    WHERE x.contextlevel = 50 AND x.instanceid = ? AND ra.roleid = 5
"""
STAFF_BESIDE = """
    SELECT s.userid FROM public.mdl_role_assignments s
    WHERE s.contextid = ra.contextid AND s.roleid IN (1, 2, 3, 4)
"""


def expected_learners(source: Database, course: int) -> set[int]:
    """Students of the course without a staff role there who appear in its log."""
    return {
        row[0]
        for row in source.rows(
            f"""{COURSE_STUDENTS}
              AND ra.userid NOT IN ({STAFF_BESIDE})
              AND ra.userid IN (
                SELECT userid FROM public.mdl_logstore_standard_log WHERE courseid = ?
                UNION SELECT relateduserid FROM public.mdl_logstore_standard_log
                WHERE courseid = ? AND relateduserid IS NOT NULL)
            """,
            course,
            course,
            course,
        )
    }


def silent_staff(source: Database, course: int) -> set[int]:
    """Students also given a staff role who never act as staff in the course's log.

    The demo promotes one learner to non-editing teacher without a log row;
    no download can tell, so inference keeps them a learner."""
    return {
        row[0]
        for row in source.rows(
            f"""{COURSE_STUDENTS}
              AND ra.userid IN ({STAFF_BESIDE})
              AND ra.userid NOT IN (
                SELECT userid FROM public.mdl_logstore_standard_log
                WHERE courseid = ? AND edulevel = 1
                  AND (relateduserid IS NULL OR relateduserid <> userid))
              AND ra.userid IN (
                SELECT userid FROM public.mdl_logstore_standard_log WHERE courseid = ?)
            """,
            course,
            course,
            course,
        )
    }


def inferred_learners(source: Database, course: int) -> set[int]:
    """What inference from the log can find: see silent_staff."""
    found = expected_learners(source, course) | silent_staff(source, course)
    assert len(silent_staff(source, course)) <= 1
    return found


def loaded_learners(loaded: Database, course: int) -> set[int]:
    return {
        row[0]
        for row in loaded.rows(
            "SELECT ra.userid FROM public.mdl_role_assignments ra "
            "JOIN public.mdl_context x ON x.id = ra.contextid "
            "WHERE x.contextlevel = 50 AND x.instanceid = ? AND ra.roleid = 5",
            course,
        )
    }


# Each variant a real download shows: (export options, import options, time unit).
VARIANTS = {
    "moodle4_lf_utc": ({}, {}, 1),
    "moodle3_crlf_bom_kolkata": (
        dict(time_format=TIME_FORMAT_MINUTES, line_ending="crlf", bom=True,
             timezone="Asia/Kolkata"),
        dict(timezone="Asia/Kolkata"),
        60,
    ),
    "moodle2_cr_no_year_new_york": (
        dict(time_format=TIME_FORMAT_NO_YEAR, line_ending="cr", timezone="America/New_York"),
        dict(timezone="America/New_York", year=2026),
        60,
    ),
    "reordered_columns_masked_names": (dict(columns=REORDERED, mask_names="dash"), {}, 1),
    "pseudonyms_paris": (
        dict(mask_names="pseudonym", timezone="Europe/Paris", line_ending="crlf"),
        dict(timezone="Europe/Paris"),
        1,
    ),
}  # fmt: skip


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_course_download_loads_back_to_the_source_rows(
    demo_site: Database, course_id: int, tmp_path: Path, variant: str
):
    export_options, import_options, unit = VARIANTS[variant]
    csv_path = export(demo_site, tmp_path / f"{variant}.csv", course_id, **export_options)
    loaded, totals = load([csv_path], tmp_path / "loaded.duckdb", **import_options)

    where = f"courseid = {course_id}"
    if export_options.get("time_format") == TIME_FORMAT_NO_YEAR:
        # Clock errors (epoch 0, year 2038) cannot keep their year without one;
        # compare the term's rows (May to October 2026).
        where += " AND timecreated BETWEEN 1777593600 AND 1792800000"
    assert log_rows(loaded, where, unit) == log_rows(demo_site, where, unit)
    assert (
        totals.read
        == totals.loaded
        == demo_site.one(
            f"SELECT count(*) FROM public.mdl_logstore_standard_log WHERE courseid = {course_id}"
        )
    )
    assert totals.rejected == totals.duplicates == totals.unknown_events == 0
    # Ids follow time, and every Moodle table exists.
    ids = loaded.rows("SELECT id FROM public.mdl_logstore_standard_log ORDER BY timecreated, id")
    assert [row[0] for row in ids] == list(range(1, totals.loaded + 1))
    tables = {row[0] for row in loaded.rows("SELECT table_name FROM information_schema.tables")}
    assert {f"mdl_{table}" for table in MOODLE_TABLES} <= tables
    # Submissions and attempts the log shows, with the source's ids and owners.
    assert shown_work(loaded, course_id) == shown_work(demo_site, course_id)


SHOWN_WORK = """
    SELECT 'attempt', a.id, a.userid, a.state FROM public.mdl_quiz_attempts a
    WHERE a.id IN (SELECT objectid FROM public.mdl_logstore_standard_log WHERE courseid = ?
        AND eventname IN ('\\mod_quiz\\event\\attempt_submitted',
                          '\\mod_quiz\\event\\attempt_reviewed'))
    UNION ALL
    SELECT 'submission', s.id, s.userid, s.status FROM public.mdl_assign_submission s
    WHERE s.id IN (SELECT objectid FROM public.mdl_logstore_standard_log WHERE courseid = ?
        AND eventname = '\\mod_assign\\event\\assessable_submitted')
"""


def shown_work(database: Database, course: int) -> set[tuple]:
    """Finished quiz attempts and handed-in submissions the course's log names."""
    rows = set(database.rows(SHOWN_WORK, course, course))
    assert rows and {row[3] for row in rows} == {"finished", "submitted"}
    return rows


def test_names_affected_users_activities_and_contexts_are_recovered(
    demo_site: Database, course_id: int, tmp_path: Path
):
    csv_path = export(demo_site, tmp_path / "course.csv", course_id)
    loaded, _ = load([csv_path], tmp_path / "loaded.duckdb")
    query = (
        "SELECT relateduserid, contextlevel, contextinstanceid, courseid, crud, edulevel "
        f"FROM public.mdl_logstore_standard_log WHERE courseid = {course_id}"
    )
    assert Counter(loaded.rows(query)) == Counter(demo_site.rows(query))
    # Every log row points at a context of the right level and instance.
    assert (
        loaded.one(
            "SELECT count(*) FROM public.mdl_logstore_standard_log l "
            "LEFT JOIN public.mdl_context x ON x.id = l.contextid "
            "WHERE x.contextlevel IS DISTINCT FROM l.contextlevel "
            "OR x.instanceid IS DISTINCT FROM l.contextinstanceid"
        )
        == 0
    )
    activities = """
        SELECT cm.id, m.name, coalesce(q.name, a.name, f.name, p.name, r.name, u.name, fb.name)
        FROM public.mdl_course_modules cm JOIN public.mdl_modules m ON m.id = cm.module
        LEFT JOIN public.mdl_quiz q ON m.name = 'quiz' AND q.id = cm.instance
        LEFT JOIN public.mdl_assign a ON m.name = 'assign' AND a.id = cm.instance
        LEFT JOIN public.mdl_forum f ON m.name = 'forum' AND f.id = cm.instance
        LEFT JOIN public.mdl_page p ON m.name = 'page' AND p.id = cm.instance
        LEFT JOIN public.mdl_resource r ON m.name = 'resource' AND r.id = cm.instance
        LEFT JOIN public.mdl_url u ON m.name = 'url' AND u.id = cm.instance
        LEFT JOIN public.mdl_feedback fb ON m.name = 'feedback' AND fb.id = cm.instance
        WHERE cm.id IN (SELECT contextinstanceid FROM public.mdl_logstore_standard_log
                        WHERE contextlevel = 70 AND courseid = ?)
    """
    assert set(loaded.rows(activities, course_id)) == set(demo_site.rows(activities, course_id))
    names = "SELECT id, firstname, lastname FROM public.mdl_user WHERE id IN (SELECT userid FROM public.mdl_logstore_standard_log WHERE courseid = ? AND userid > 0)"  # noqa: E501
    assert set(loaded.rows(names, course_id)) == set(demo_site.rows(names, course_id))
    # Without --course-start the course starts on the Monday learners start.
    course = "SELECT id, fullname, startdate FROM public.mdl_course WHERE id = ?"
    assert loaded.rows(course, course_id) == demo_site.rows(course, course_id)


def csv_learner_weeks(path: Path, learners: set[int], timezone: str) -> Counter:
    """(user id, course week) counts taken from the download's text alone."""
    zone = ZoneInfo(timezone)
    start = datetime(COURSE_START.year, COURSE_START.month, COURSE_START.day, tzinfo=zone)
    counts: Counter = Counter()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            user = int(re.match(r"The user with id '(\d+)'", row["Description"]).group(1))
            if user not in learners:
                continue
            moment = datetime.strptime(row["Time"], TIME_FORMAT_MINUTES).replace(tzinfo=zone)
            # Epoch seconds: subtracting two times of one zone ignores DST changes.
            counts[(user, int((moment.timestamp() - start.timestamp()) // WEEK))] += 1
    return counts


def test_learner_week_counts_match_the_csv_text(
    demo_site: Database, course_id: int, tmp_path: Path
):
    timezone = "Australia/Sydney"
    csv_path = export(
        demo_site,
        tmp_path / "course.csv",
        course_id,
        time_format=TIME_FORMAT_MINUTES,
        timezone=timezone,
        line_ending="crlf",
        bom=True,
    )
    loaded, _ = load(
        [csv_path], tmp_path / "loaded.duckdb", timezone=timezone, course_start=COURSE_START
    )
    learners = loaded_learners(loaded, course_id)
    assert learners == inferred_learners(demo_site, course_id)
    from_tables = Counter(
        {
            (user, week): count
            for user, week, count in loaded.rows(
                """
                SELECT l.userid, floor((l.timecreated - c.startdate) / 604800)::BIGINT, count(*)
                FROM public.mdl_logstore_standard_log l
                JOIN public.mdl_course c ON c.id = l.courseid
                JOIN public.mdl_context x ON x.contextlevel = 50 AND x.instanceid = c.id
                JOIN public.mdl_role_assignments ra
                  ON ra.contextid = x.id AND ra.userid = l.userid AND ra.roleid = 5
                WHERE c.id = ? GROUP BY 1, 2
                """,
                course_id,
            )
        }
    )
    assert from_tables == csv_learner_weeks(csv_path, learners, timezone)
    assert sum(from_tables.values()) > 100


def test_broken_rows_are_rejected_with_file_and_line(
    demo_site: Database, course_id: int, tmp_path: Path
):
    good = export(demo_site, tmp_path / "good.csv", course_id, line_ending="crlf")
    lines = good.read_bytes().decode("utf-8").split("\r\n")
    header, body = lines[0], [line for line in lines[1:] if line]
    broken_quote = body[10].replace('",', ",", 1)  # the time's closing quote lost
    bad_time = re.sub(r'^"[^"]*"', '"31/02/26, 25:61:00"', body[20])
    short = ",".join(body[30].split(",")[:4])
    rows = [*body[:10], broken_quote, *body[10:20], bad_time, *body[20:30], short, *body[30:]]
    damaged = tmp_path / "damaged.csv"
    damaged.write_text("\r\n".join([header, *rows]) + "\r\n", encoding="utf-8")

    rejects_path = tmp_path / "rejects.csv"
    loaded, totals = load([damaged], tmp_path / "loaded.duckdb", rejects=rejects_path)

    # Line numbers count the header as line 1.
    found = {(r.file, r.line): r.reason for r in totals.rejects}
    assert set(found) == {("damaged.csv", 12), ("damaged.csv", 23), ("damaged.csv", 34)}
    assert "quote" in found[("damaged.csv", 12)]
    assert "time" in found[("damaged.csv", 23)]
    assert "columns" in found[("damaged.csv", 34)]
    assert totals.read == len(rows) == totals.loaded + totals.duplicates + totals.rejected
    assert totals.loaded == len(body)
    with rejects_path.open(newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [(r["file"], int(r["line"])) for r in written] == sorted(found)
    assert written[0]["raw"] == broken_quote
    assert loaded.one("SELECT count(*) FROM public.mdl_logstore_standard_log") == len(body)


def test_localised_event_names_are_kept_and_counted(
    demo_site: Database, course_id: int, tmp_path: Path
):
    csv_path = export(demo_site, tmp_path / "french.csv", course_id, event_names=FRENCH_EVENT_NAMES)
    loaded, totals = load([csv_path], tmp_path / "loaded.duckdb")
    localised = demo_site.one(
        "SELECT count(*) FROM public.mdl_logstore_standard_log WHERE courseid = ? "
        "AND eventname IN (SELECT unnest(?::VARCHAR[]))",
        course_id,
        list(FRENCH_EVENT_NAMES),
    )
    assert localised > 0
    assert totals.unknown_events == localised
    assert totals.loaded == totals.read
    assert sum(totals.unknown_event_names.values()) == localised
    unknown = loaded.rows(
        "SELECT eventname, crud, edulevel, count(*) FROM public.mdl_logstore_standard_log "
        "WHERE eventname LIKE '\\unknown\\event\\%' GROUP BY ALL"
    )
    assert sum(row[3] for row in unknown) == localised
    by_name = {row[0]: row[1:3] for row in unknown}
    assert by_name["\\unknown\\event\\system__cours_consulte"] == ("r", 2)
    # Users, times and activities are still right for those rows.
    where = f"courseid = {course_id}"
    source, target = log_rows(demo_site, where), log_rows(loaded, where)
    assert sum(source.values()) == sum(target.values())
    strip = lambda rows: Counter({k[1:]: v for k, v in rows.items()})  # noqa: E731
    assert strip(source) == strip(target)


def test_overlapping_downloads_are_loaded_once(demo_site: Database, course_id: int, tmp_path: Path):
    whole = export(demo_site, tmp_path / "whole.csv", course_id, time_format=TIME_FORMAT_MINUTES)
    lines = whole.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    first, second = body[: len(body) * 2 // 3], body[len(body) // 3 :]
    paths = []
    for name, part in (("newer.csv", first), ("older.csv", second)):
        paths.append(tmp_path / name)
        paths[-1].write_text("\n".join([header, *part]) + "\n", encoding="utf-8")
    loaded, totals = load(paths, tmp_path / "loaded.duckdb")
    assert totals.read == len(first) + len(second)
    assert totals.duplicates == len(first) + len(second) - len(body)
    assert totals.loaded == len(body)
    where = f"courseid = {course_id}"
    assert log_rows(loaded, where, 60) == log_rows(demo_site, where, 60)


def test_site_level_download_with_several_courses(demo_site: Database, tmp_path: Path):
    csv_path = export(
        demo_site,
        tmp_path / "site.csv",
        None,
        timezone="Europe/Paris",
        line_ending="cr",
        bom=True,
    )
    assert csv_path.read_text(encoding="utf-8-sig").startswith("Course,Time,")
    loaded, totals = load([csv_path], tmp_path / "loaded.duckdb", timezone="Europe/Paris")
    assert (
        totals.loaded
        == totals.read
        == demo_site.one("SELECT count(*) FROM public.mdl_logstore_standard_log")
    )
    per_course = "SELECT courseid, count(*) FROM public.mdl_logstore_standard_log GROUP BY 1"
    assert set(loaded.rows(per_course)) == set(demo_site.rows(per_course))
    assert log_rows(loaded, "true") == log_rows(demo_site, "true")
    courses = "SELECT id, fullname, shortname FROM public.mdl_course WHERE format <> 'site'"
    source_courses = set(demo_site.rows(courses))
    assert len(source_courses) >= 3
    # Courses the log names but Moodle lacks (clock and id errors) stay absent.
    assert set(loaded.rows(courses)) == source_courses
    for course in {row[0] for row in source_courses}:
        assert loaded_learners(loaded, course) == inferred_learners(demo_site, course)


def test_roster_of_ids_or_names_gives_the_learners(
    demo_site: Database, course_id: int, tmp_path: Path
):
    csv_path = export(demo_site, tmp_path / "course.csv", course_id)
    expected = expected_learners(demo_site, course_id)
    chosen = sorted(expected)[: len(expected) - 2]  # a roster may omit active users
    by_id = tmp_path / "roster_ids.csv"
    by_id.write_text("user id\n" + "\n".join(map(str, chosen)) + "\n", encoding="utf-8")
    loaded, _ = load([csv_path], tmp_path / "ids.duckdb", roster=by_id)
    assert loaded_learners(loaded, course_id) == set(chosen)

    names = demo_site.rows(
        "SELECT id, firstname, lastname FROM public.mdl_user WHERE id IN "
        f"({','.join(map(str, chosen))}) AND firstname || lastname NOT IN "
        "(SELECT firstname || lastname FROM public.mdl_user GROUP BY 1 HAVING count(*) > 1)"
    )
    by_name = tmp_path / "roster_names.csv"
    with by_name.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First name", "Last name"])
        writer.writerows([first, last] for _, first, last in names)
        writer.writerow(["Never", "Seen"])  # enrolled but absent from the log
    loaded, _ = load([csv_path], tmp_path / "names.duckdb", roster=by_name)
    learners = loaded_learners(loaded, course_id)
    never_seen = loaded.one(
        "SELECT id FROM public.mdl_user WHERE firstname = 'Never' AND lastname = 'Seen'"
    )
    assert learners == {row[0] for row in names} | {never_seen}
    assert loaded.one(
        "SELECT timestart FROM public.mdl_user_enrolments WHERE userid = ?", never_seen
    ) == loaded.one("SELECT startdate FROM public.mdl_course WHERE id = ?", course_id)


HAND_WRITTEN = """\
Time,User full name,Affected user,Event context,Component,Event name,Description,Origin,IP address
"03/03/25, 10:05",Ann Lee,Ann Lee,Quiz: Quiz 1,Quiz,Quiz attempt submitted,"The user with id '31' has submitted the attempt with id '7' for the quiz with course module id '501'.",web,10.0.0.1
"03/03/25, 10:00",Admin User as Ann Lee,-,"Course: Algebra, ""honours"" (2025)",System,Course viewed,The user with id '31' viewed the course with id '9'.,web,10.0.0.9
"02/03/25, 09:00",Tom Ray,Ann Lee,Assignment: Essay 1,Assignment,The submission has been graded.,The user with id '40' has graded the submission '3' for the user with id '31' for the assignment with course module id '502'.,web,10.0.0.2
"02/03/25, 08:59",Ann Lee,-,Attendance: Week 1,Attendance,Attendance taken by student,The user with id '31' took attendance in the course module with id '503'.,web,10.0.0.1
"01/03/25, 08:00",Bo Chen,-,Quiz: Quiz 1,Quiz,Course module viewed,The user with id '32' viewed the 'quiz' activity with course module id '501'.,ws,10.0.0.3
"01/03/25, 07:00",Admin User,-,"Course: Algebra, ""honours"" (2025)",System,Course viewed,The user with id '2' viewed the course with id '9'.,web,10.0.0.9
"""  # noqa: E501
GRADEBOOK = """\
"First name","Last name","ID number","Institution","Department","Email address","Quiz: Quiz 1 (Real)","Assignment: Essay 1 (Real)","Course total (Real)","Last downloaded from this course"
Ann,Lee,S1,,,ann@example.edu,8.00,72.50,80.25,"Monday, 10 March 2025, 10:00 AM"
Bo,Chen,S2,,,bo@example.edu,-,40.00,40.00,"Monday, 10 March 2025, 10:00 AM"
Cy,Dunn,S3,,,cy@example.edu,-,-,-,"Monday, 10 March 2025, 10:00 AM"
"""  # noqa: E501


def test_hand_written_download_login_as_unknown_module_and_grades(tmp_path: Path):
    download = tmp_path / "algebra.csv"
    download.write_text(HAND_WRITTEN, encoding="utf-8")
    grades = tmp_path / "grades.csv"
    grades.write_text(GRADEBOOK, encoding="utf-8")
    # Its dates (1 to 3 March) read as well month first: the order is given.
    loaded, totals = load(
        [download],
        tmp_path / "loaded.duckdb",
        grades=[grades],
        grade_pass={"Course total": 50},
        date_order="dmy",
    )
    assert totals.loaded == 6 and totals.rejected == 0 and totals.unknown_events == 1
    rows = loaded.rows(
        "SELECT eventname, userid, realuserid, relateduserid, courseid, contextinstanceid "
        "FROM public.mdl_logstore_standard_log ORDER BY id"
    )
    assert rows[0] == ("\\core\\event\\course_viewed", 2, None, None, 9, 9)
    assert rows[3] == ("\\mod_assign\\event\\submission_graded", 40, None, 31, 9, 502)
    assert rows[4] == ("\\core\\event\\course_viewed", 31, 2, None, 9, 9)
    assert rows[5] == ("\\mod_quiz\\event\\attempt_submitted", 31, None, 31, 9, 501)
    # A plugin's event the catalogue cannot know is kept.
    assert rows[2][0] == "\\unknown\\event\\attendance__attendance_taken_by_student"
    assert loaded.rows("SELECT id, fullname FROM public.mdl_course") == [
        (9, 'Algebra, "honours" (2025)')
    ]
    modules = loaded.rows(
        "SELECT cm.id, m.name FROM public.mdl_course_modules cm "
        "JOIN public.mdl_modules m ON m.id = cm.module ORDER BY 1"
    )
    assert modules == [(501, "quiz"), (502, "assign"), (503, "attendance")]
    # Ann and Bo learn, Tom grades; Cy appears only in the gradebook.
    roles = loaded.rows(
        "SELECT u.firstname, ra.roleid FROM public.mdl_role_assignments ra "
        "JOIN public.mdl_user u ON u.id = ra.userid ORDER BY 1, 2"
    )
    assert roles == [("Ann", 5), ("Bo", 5), ("Cy", 5), ("Tom", 3)]
    items = loaded.rows(
        "SELECT itemtype, itemmodule, itemname, grademax, gradepass FROM public.mdl_grade_items "
        "ORDER BY id"
    )
    assert [(i[0], i[1], i[2], float(i[3]), float(i[4])) for i in items] == [
        ("mod", "quiz", "Quiz 1", 10.0, 0.0),
        ("mod", "assign", "Essay 1", 100.0, 0.0),
        ("course", None, None, 100.0, 50.0),
    ]
    grades_by_user = loaded.rows(
        "SELECT u.email, i.itemtype, g.finalgrade FROM public.mdl_grade_grades g "
        "JOIN public.mdl_user u ON u.id = g.userid JOIN public.mdl_grade_items i "
        "ON i.id = g.itemid ORDER BY 1, 2, 3"
    )
    assert [(e, t, float(g)) for e, t, g in grades_by_user] == [
        ("ann@example.edu", "course", 80.25), ("ann@example.edu", "mod", 8.0),
        ("ann@example.edu", "mod", 72.5), ("bo@example.edu", "course", 40.0),
        ("bo@example.edu", "mod", 40.0),
    ]  # fmt: skip
    assert loaded.one("SELECT grade FROM public.mdl_quiz") == 10


def test_command_line(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as help_exit:
        import_main(["--help"])
    assert help_exit.value.code == 0
    help_text = capsys.readouterr().out
    assert "teaching events" in help_text and "--roster" in help_text
    download = tmp_path / "algebra.csv"
    download.write_text(HAND_WRITTEN, encoding="utf-8")
    target = tmp_path / "out.duckdb"
    arguments = [str(download), "--duckdb", str(target), "--course-end", "2025-06-30"]
    assert import_main([*arguments, "--date-order", "dmy"]) == 0
    output = capsys.readouterr().out
    assert "read 6 rows from 1 file(s): loaded 6, duplicates 0, rejected 0" in output
    loaded = Database(target)
    start, end = loaded.rows("SELECT startdate, enddate FROM public.mdl_course")[0]
    assert (start, end) == (1740355200, 1751241600)  # Monday 24 Feb 2025, 30 Jun 2025 UTC
    assert (tmp_path / "out_rejects.csv").read_text().startswith("file,line,reason,raw")


def synthetic_download(
    path: Path, courses: dict[int, list[tuple[int, datetime]]], timezone: str
) -> Path:
    """A course-viewed row per (user, local time) of each course, newest first."""
    rows = []
    for course, visits in courses.items():
        for user, moment in visits:
            rows.append(
                (
                    moment,
                    [
                        moment.strftime("%d/%m/%y, %H:%M:%S"),
                        f"Learner {user}",
                        "-",
                        f"Course: Course {course}",
                        "System",
                        "Course viewed",
                        f"The user with id '{user}' viewed the course with id '{course}'.",
                        "web",
                        "10.0.0.1",
                    ],
                )
            )
    rows.sort(key=lambda row: row[0].replace(tzinfo=ZoneInfo(timezone)), reverse=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(REORDERED_HEADER))
        writer.writerows(row for _, row in rows)
    return path


REORDERED_HEADER = (
    "Time", "User full name", "Affected user", "Event context", "Component", "Event name",
    "Description", "Origin", "IP address",
)  # fmt: skip


def weekly(users: range, first_monday: datetime, weeks: int) -> list[tuple[int, datetime]]:
    """Each user views the course on Tuesday 10:00 of each week."""
    return [
        (user, first_monday + timedelta(days=7 * week + 1, hours=10))
        for user in users
        for week in range(weeks)
    ]


def test_course_dates_end_of_past_terms_self_paced_courses_and_overrides(tmp_path: Path):
    paris = "Europe/Paris"
    # Last autumn's course runs 14 weeks over the change to winter time, with one
    # late visit; this winter's course is in week 6; learners of a self-paced
    # course start every other week.
    autumn, winter = datetime(2025, 9, 8), datetime(2026, 1, 12)
    courses = {
        11: [*weekly(range(100, 108), autumn, 14), (100, autumn + timedelta(weeks=17))],
        12: weekly(range(200, 208), winter, 6),
        13: [
            visit
            for number, user in enumerate(range(300, 310))
            for visit in weekly(range(user, user + 1), autumn + timedelta(weeks=2 * number), 3)
        ],
    }
    download = synthetic_download(tmp_path / "courses.csv", courses, paris)
    loaded, totals = load([download], tmp_path / "loaded.duckdb", timezone=paris)

    def midnight(day: datetime) -> int:
        return int(day.replace(tzinfo=ZoneInfo(paris)).timestamp())

    dates = {
        row[0]: row[1:]
        for row in loaded.rows("SELECT id, startdate, enddate, format FROM public.mdl_course")
    }
    # 14 weeks of 7 x 24 hours: not the local midnight an hour later.
    assert dates[11] == (midnight(autumn), midnight(autumn) + 14 * WEEK, "weeks")
    assert dates[12] == (midnight(winter), 0, "weeks")
    assert dates[13] == (0, 0, "topics")
    # The running course is followed for as many weekly sections as the ended one.
    sections = dict(
        loaded.rows(
            "SELECT course, count(*) FROM public.mdl_course_sections WHERE section > 0 GROUP BY 1"
        )
    )
    assert sections == {11: 14, 12: 14}
    assert any("self-paced" in line for line in totals.course_dates)

    # Dates given win, for one course by name or for all; a name that fits no
    # course is an error.
    loaded, _ = load(
        [download],
        tmp_path / "given.duckdb",
        timezone=paris,
        course_ends={"Course 12": date(2026, 3, 30)},
        course_starts={"13": date(2025, 9, 1)},
    )
    dates = {
        row[0]: row[1:]
        for row in loaded.rows("SELECT id, startdate, enddate FROM public.mdl_course")
    }
    assert dates[12] == (midnight(winter), midnight(winter) + 11 * WEEK)
    assert dates[13][0] == midnight(datetime(2025, 9, 1))  # dated: no longer self-paced
    with pytest.raises(ValueError, match="names no course"):
        load([download], tmp_path / "wrong.duckdb", course_ends={"Course 99": date(2026, 3, 30)})


def test_gradebook_goes_to_the_course_of_its_learners(tmp_path: Path):
    # Two offerings of one course name the same activity; their learners differ.
    downloads = []
    for course, cm, people in ((9, 501, ("Ann Lee", "Bo Chen")), (10, 601, ("Cy Dunn", "Di Fox"))):
        lines = [HAND_WRITTEN.splitlines()[0]]
        for number, name in enumerate(people):
            user = course * 10 + number
            lines += [
                f'"0{number + 1}/03/25, 10:05",{name},-,Quiz: Quiz 1,Quiz,Course module viewed,'
                f"The user with id '{user}' viewed the 'quiz' activity with course module id "
                f"'{cm}'.,web,10.0.0.1",
                f'"0{number + 1}/03/25, 10:00",{name},-,Course: Algebra,System,Course viewed,'
                f"The user with id '{user}' viewed the course with id '{course}'.,web,10.0.0.1",
            ]
        downloads.append(tmp_path / f"course_{course}.csv")
        downloads[-1].write_text("\n".join(lines) + "\n", encoding="utf-8")
    header = '"First name","Last name","Email address","Quiz: Quiz 1 (Real)"\n'
    second = tmp_path / "second.csv"
    second.write_text(header + "Cy,Dunn,cy@example.edu,7\nDi,Fox,di@example.edu,9\n")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(header + "Ed,Gray,ed@example.edu,5\n")
    loaded, totals = load(
        downloads, tmp_path / "loaded.duckdb", grades=[second, unknown], date_order="dmy"
    )
    assert loaded.rows("SELECT DISTINCT courseid FROM public.mdl_grade_items") == [(10,)]
    assert any("fits courses 9, 10 equally" in note for note in totals.notes)
    # Named, the gradebook of people the log never shows goes where it is told.
    loaded, _ = load(
        downloads,
        tmp_path / "named.duckdb",
        grades=[second, unknown],
        grade_courses={str(unknown): "9"},
        date_order="dmy",
    )
    assert loaded.rows("SELECT DISTINCT courseid FROM public.mdl_grade_items ORDER BY 1") == [
        (9,),
        (10,),
    ]


def test_command_line_course_dates_gradebook_courses_and_dbt_vars():
    args = build_parser().parse_args(
        [
            "a.csv",
            "--course-end", "2026-06-30",
            "--course-end", "ALG101=2026-05-29",
            "--grades", "ALG101=grades.csv",
            "--vars", "{weeks_when_no_end_date: 12}",
        ]
    )  # fmt: skip
    assert args.course_end == [(None, date(2026, 6, 30)), ("ALG101", date(2026, 5, 29))]
    assert args.grades == [("ALG101", Path("grades.csv"))]
    assert args.vars == {"weeks_when_no_end_date": 12}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["a.csv", "--vars", "[1, 2]"])
