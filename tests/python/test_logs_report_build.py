"""Logs report downloads all the way to the marts: write, import, `dbt build`, compare.

A small two-term demo site is generated once; export.py writes its logs as
Moodle's Logs report downloads and moodle-logs-import loads them. Two builds:

* two terms (Europe/Paris): last term's two courses and this term's two as
  course downloads, in the time formats of Moodle 4 and 3, LF, CRLF and CR
  line endings, a byte order mark, reordered columns, pseudonyms, French
  event names, one download given as two overlapping files and one with
  broken rows; the risk models train on last term;
* one term (America/New_York): the site-level download (Course column) of a
  site in its first term, in Moodle 2's year-less time format, CR line
  endings, names masked as "-", imported and built by the one command
  `moodle-logs-import --build`; risk falls back on the starter score.

fct_learner_weeks must hold, per learner and course week, the events counted
here from the CSV text alone (csv module and the catalogue seed), by the
definitions the docs give: a learner's own events (not someone logged in as
them) whose event counts as activity, in course week floor((time - course
start) / 7 days) + 1 (earlier ones in week 1), before the course end.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dbt_project import PROJECT_DIR, Workspace, generate_demo_site
from moodle_analytics.logs_report.export import (
    FRENCH_EVENT_NAMES,
    ExportOptions,
    export_gradebook,
    export_logs_report,
)
from moodle_analytics.logs_report.importer import ImportOptions, ImportTotals, import_logs
from moodle_analytics.logs_report.load import main as import_main
from moodle_analytics.logs_report.report_format import (
    TIME_FORMAT_MINUTES,
    TIME_FORMAT_NO_YEAR,
    TIME_FORMAT_SECONDS,
)

pytestmark = pytest.mark.slow

WEEK = 7 * 24 * 3600
# A site built from downloads is not the demo: its builds need a pseudonym secret.
LOGS_SITE_SECRET = {"MOODLE_PSEUDONYM_SECRET": "logs-report-test-site-" + "5" * 32}
PARIS, NEW_YORK = "Europe/Paris", "America/New_York"
TERM_YEAR = 2026
REORDERED = [
    "Description", "Time", "Event name", "Component", "Event context",
    "User full name", "IP address", "Origin", "Affected user",
]  # fmt: skip
ACTOR = re.compile(r"^The user with id '(\d+)'")
ANY_USER = re.compile(r"user with id '(\d+)'", re.IGNORECASE)
# Enough labelled history for a model in a small test site.
RISK_VARS = "{risk_min_training_learner_courses: 20, risk_min_training_per_class: 4}"


@dataclass
class Download:
    """A download as written before any damage: the text the counts come from."""

    path: Path
    course: int | None  # None: a site-level download, whose Course column names it
    time_format: str
    timezone: str
    left_out: set[int] = field(default_factory=set)  # data rows (from 0) not loaded


@dataclass
class Build:
    workspace: Workspace
    downloads: list[Download]
    files: list[Path]
    totals: ImportTotals | None
    courses: dict[str, int]  # short name -> id, as the demo site has them
    output: str = ""
    gradebooks: dict[int, Path] = field(default_factory=dict)  # course -> gradebook export
    overlap: int = 0  # rows two files both hold
    broken_lines: dict[int, str] = field(default_factory=dict)  # line -> word of its reason


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Two terms of two 8-week courses with 20 learners each; the second is in week 4."""
    options = "--terms 2 --courses-per-term 2 --learners-per-course 20 --weeks 8"
    options += " --current-week 4 --anomalies 0 --seed 7 --no-progress"
    return generate_demo_site(tmp_path_factory.mktemp("logs_build_site"), options)


def term_courses(site: Path) -> tuple[list[int], list[int], dict[str, int]]:
    """Last term's and this term's courses, and every course id by short name."""
    with duckdb.connect(str(site), read_only=True) as con:
        rows = con.execute(
            "SELECT id, shortname, startdate, enddate FROM public.mdl_course ORDER BY id"
        ).fetchall()
    dated = [row for row in rows if row[2] > 0 and row[3] > 0]
    newest = max(row[2] for row in dated)
    past = [row[0] for row in dated if row[2] < newest]
    running = [row[0] for row in dated if row[2] == newest]
    return past, running, {row[1]: row[0] for row in rows}


def export(site: Path, path: Path, course: int | None, **options) -> Download:
    options.setdefault("site_level", course is None)
    options.setdefault("timezone", PARIS)
    with duckdb.connect(str(site), read_only=True) as con:
        export_logs_report(con, path, course, ExportOptions(**options))
    time_format = options.get("time_format", TIME_FORMAT_SECONDS)
    return Download(path, course, time_format, options["timezone"])


def split_lines(path: Path) -> tuple[str, list[str], str]:
    """Header, data lines and line ending of a download (no field spans lines here)."""
    text = path.read_bytes().decode("utf-8-sig")
    ending = "\r\n" if "\r\n" in text else ("\r" if "\r" in text else "\n")
    lines = text.split(ending)
    return lines[0], [line for line in lines[1:] if line], ending


def write_lines(path: Path, header: str, lines: list[str], ending: str) -> Path:
    path.write_bytes((ending.join([header, *lines]) + ending).encode("utf-8"))
    return path


def damage(download: Download, directory: Path) -> tuple[Path, dict[int, str]]:
    """A copy with a broken quote, an impossible time and a short row; their line
    numbers (the header is line 1) and what the reason must mention."""
    header, lines, ending = split_lines(download.path)
    lines = list(lines)
    lines[10] = lines[10].replace('",', ",", 1)  # the time's closing quote lost
    lines[20] = re.sub(r'^"[^"]*"', '"31/02/26, 25:61:00"', lines[20])
    lines[30] = ",".join(lines[30].split(",")[:4])
    download.left_out |= {10, 20, 30}
    path = write_lines(directory / f"damaged_{download.path.name}", header, lines, ending)
    return path, {12: "quote", 22: "time", 32: "columns"}


def overlapping_parts(download: Download, directory: Path) -> tuple[list[Path], int]:
    """The download as two files that share a third of their rows (downloaded twice)."""
    header, lines, ending = split_lines(download.path)
    newer, older = lines[: len(lines) * 2 // 3], lines[len(lines) // 3 :]
    paths = [
        write_lines(directory / f"newer_{download.path.name}", header, newer, ending),
        write_lines(directory / f"older_{download.path.name}", header, older, ending),
    ]
    return paths, len(newer) + len(older) - len(lines)


@pytest.fixture(scope="module")
def two_terms(site: Path, tmp_path_factory) -> Build:
    directory = tmp_path_factory.mktemp("logs_build_two_terms")
    past, running, courses = term_courses(site)
    downloads = [
        export(site, directory / "past_a.csv", past[0]),
        export(
            site,
            directory / "past_b.csv",
            past[1],
            time_format=TIME_FORMAT_MINUTES,
            line_ending="crlf",
            bom=True,
            columns=REORDERED,
        ),
        export(
            site, directory / "running_a.csv", running[0], line_ending="cr", mask_names="pseudonym"
        ),
        export(site, directory / "running_b.csv", running[1], event_names=FRENCH_EVENT_NAMES),
    ]
    parts, overlap = overlapping_parts(downloads[2], directory)
    damaged, broken_lines = damage(downloads[3], directory)
    files = [downloads[0].path, downloads[1].path, *parts, damaged]
    gradebooks = {}
    # Gradebooks name people; the log downloads of those courses name them too.
    for course in (past[0], running[1]):
        gradebooks[course] = directory / f"grades_{course}.csv"
        with duckdb.connect(str(site), read_only=True) as con:
            export_gradebook(con, gradebooks[course], course, PARIS)
    source = directory / "moodle_source.duckdb"
    options = ImportOptions(
        timezone=PARIS,
        grades=list(gradebooks.values()),
        grade_max={"Course total": 100.0},
        grade_pass={"Course total": 50.0},
    )
    totals = import_logs(files, source, options)
    workspace = Workspace(
        directory, source, directory / "warehouse.duckdb", Path("unused"), LOGS_SITE_SECRET
    )
    result = workspace.dbt("build", "--vars", RISK_VARS)
    return Build(
        workspace,
        downloads,
        files,
        totals,
        courses,
        result.stdout,
        gradebooks,
        overlap,
        broken_lines,
    )


@pytest.fixture(scope="module")
def one_term(site: Path, tmp_path_factory) -> Build:
    """A site in its first term (its log from four weeks before this term's start),
    downloaded site-wide and given to the one command `moodle-logs-import --build`."""
    directory = tmp_path_factory.mktemp("logs_build_one_term")
    _, running, courses = term_courses(site)
    first_term_site = directory / "first_term.duckdb"
    with duckdb.connect(str(first_term_site)) as con:
        con.execute(f"ATTACH '{site}' AS demo (READ_ONLY)")
        start = con.execute(
            "SELECT min(startdate) FROM demo.public.mdl_course WHERE id IN "
            f"({','.join(map(str, running))})"
        ).fetchone()[0]
        con.execute("CREATE SCHEMA public")
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'demo' AND table_schema = 'public'"
        ).fetchall()
        for (table,) in tables:
            where = f"WHERE timecreated >= {start - 4 * WEEK}" if table.endswith("_log") else ""
            con.execute(
                f'CREATE TABLE public."{table}" AS SELECT * FROM demo.public."{table}" {where}'
            )
    download = export(
        first_term_site,
        directory / "site.csv",
        None,
        time_format=TIME_FORMAT_NO_YEAR,
        timezone=NEW_YORK,
        line_ending="cr",
        mask_names="dash",
    )
    source = directory / "moodle_source.duckdb"
    workspace = Workspace(
        directory, source, directory / "warehouse.duckdb", Path("unused"), LOGS_SITE_SECRET
    )
    arguments = [
        str(download.path),
        "--duckdb", str(source),
        "--timezone", NEW_YORK,
        "--year", str(TERM_YEAR),
        "--build",
        "--warehouse", str(workspace.warehouse),
        # The small-site settings of the two-term build: no history all the same.
        "--vars", RISK_VARS,
        "--quiet",
    ]  # fmt: skip
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(output):
        for name, value in workspace.env.items():
            patch.setenv(name, value)
        # dbt's own settings: keep this build's files out of the project's target/.
        patch.setenv("DBT_TARGET_PATH", str(directory / "target"))
        patch.setenv("DBT_LOG_PATH", str(directory / "logs"))
        returncode = import_main(arguments)
    assert returncode == 0, output.getvalue()[-6000:]
    return Build(workspace, [download], [download.path], None, courses, output.getvalue())


def activity_by_name() -> dict[tuple[str, str], bool]:
    """(Component, Event name) as a download shows them -> the event counts as activity."""
    found: dict[tuple[str, str], set[bool]] = {}
    french = {}
    with (PROJECT_DIR / "seeds" / "moodle_event_catalogue.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            counts = row["counts_as_activity"] == "true"
            found.setdefault((row["component_display_name"], row["display_name"]), set()).add(
                counts
            )
            if row["event_name"] in FRENCH_EVENT_NAMES:
                french_name = FRENCH_EVENT_NAMES[row["event_name"]]
                found.setdefault((row["component_display_name"], french_name), set()).add(counts)
                french[row["event_name"]] = french_name
    assert french.keys() == FRENCH_EVENT_NAMES.keys()
    assert all(len(values) == 1 for values in found.values())
    return {key: values.pop() for key, values in found.items()}


def epoch_of(text: str, time_format: str, timezone: str) -> int:
    if time_format == TIME_FORMAT_NO_YEAR:
        text, time_format = f"{text} {TERM_YEAR}", f"{time_format} %Y"
    moment = datetime.strptime(text, time_format).replace(tzinfo=ZoneInfo(timezone))
    return int(moment.timestamp())


def csv_learner_weeks(
    downloads: list[Download],
    courses: dict[str, int],
    learners: dict[int, set[int]],
    dates: dict[int, tuple[int, int]],
) -> Counter:
    """(course, user, course week) -> events, from the downloads' text alone.

    A course without a start (self-paced) counts each learner's weeks from their
    own first row in the course, where they act or are named."""
    activity = activity_by_name()
    counted: list[tuple[int, int, int]] = []
    first_seen: dict[tuple[int, int], int] = {}
    for download in downloads:
        with download.path.open(newline="", encoding="utf-8-sig") as handle:
            for index, row in enumerate(csv.DictReader(handle)):
                course = download.course or courses.get(row["Course"])
                if index in download.left_out or course not in learners:
                    continue
                moment = epoch_of(row["Time"], download.time_format, download.timezone)
                for named in ANY_USER.findall(row["Description"]):
                    key = (course, int(named))
                    first_seen[key] = min(first_seen.get(key, moment), moment)
                actor = ACTOR.match(row["Description"])
                if actor is None or " as " in row["User full name"]:
                    continue
                user = int(actor.group(1))
                if user in learners[course] and activity[(row["Component"], row["Event name"])]:
                    counted.append((course, user, moment))
    counts: Counter = Counter()
    for course, user, moment in counted:
        start, end = dates[course]
        if end and moment >= end:
            continue
        week = max(1, (moment - (start or first_seen[(course, user)])) // WEEK + 1)
        counts[(course, user, week)] += 1
    return counts


def loaded_learners(source: Path) -> dict[int, set[int]]:
    """Course -> user ids given the student role by the import."""
    learners: dict[int, set[int]] = {}
    with duckdb.connect(str(source), read_only=True) as con:
        for course, user in con.execute(
            "SELECT x.instanceid, ra.userid FROM public.mdl_role_assignments ra "
            "JOIN public.mdl_context x ON x.id = ra.contextid "
            "WHERE x.contextlevel = 50 AND ra.roleid = 5"
        ).fetchall():
            learners.setdefault(course, set()).add(user)
    return learners


def loaded_dates(source: Path) -> dict[int, tuple[int, int]]:
    """Course -> (startdate, enddate) of a Moodle database."""
    with duckdb.connect(str(source), read_only=True) as con:
        rows = con.execute("SELECT id, startdate, enddate FROM public.mdl_course").fetchall()
    return {course: (start, end) for course, start, end in rows}


def local_midnight(epoch: int, timezone: str) -> int:
    """The site's date (UTC) of `epoch` as midnight where the download was made."""
    day = datetime.fromtimestamp(epoch, ZoneInfo("UTC")).date()
    return int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)).timestamp())


def mart_learner_weeks(workspace: Workspace) -> Counter:
    rows = workspace.query(
        """
        select weeks.course_id, learners.user_id, weeks.course_week_number, weeks.events
        from analytics_marts.fct_learner_weeks as weeks
        inner join analytics_intermediate.int_course_learners as learners
            on weeks.learner_course_id = learners.learner_course_id
        where weeks.events > 0
        """
    )
    return Counter({(course, user, week): events for course, user, week, events in rows})


def test_two_term_downloads_build_learner_weeks_that_match_the_csv_text(
    site: Path, two_terms: Build
):
    source = two_terms.workspace.source
    learners, dates = loaded_learners(source), loaded_dates(source)
    past, running, _ = term_courses(site)
    # Course dates as the demo site has them, read where the teacher lives:
    # starts inferred for all, ends (whole weeks later) for last term's only.
    site_dates = loaded_dates(site)
    for course in past:
        start, end = site_dates[course]
        assert dates[course] == (
            local_midnight(start, PARIS),
            local_midnight(start, PARIS) + end - start,
        )
    for course in running:
        start, _ = site_dates[course]
        assert dates[course] == (local_midnight(start, PARIS), 0)
    assert set(learners) == {*past, *running}

    expected = csv_learner_weeks(two_terms.downloads, two_terms.courses, learners, dates)
    assert mart_learner_weeks(two_terms.workspace) == expected
    assert sum(expected.values()) > 2000
    # Each term's courses: weeks 1 to 8 of last term, 1 to 4 of this one.
    weeks = dict(
        two_terms.workspace.query(
            "select course_id, max(course_week_number) from analytics_marts.fct_learner_weeks "
            "group by 1"
        )
    )
    assert weeks == {**dict.fromkeys(past, 8), **dict.fromkeys(running, 4)}


def test_broken_rows_are_reported_and_every_row_is_accounted_for(two_terms: Build):
    totals = two_terms.totals
    damaged = two_terms.files[-1].name
    found = {(r.file, r.line): r.reason for r in totals.rejects}
    assert set(found) == {(damaged, line) for line in two_terms.broken_lines}
    for line, word in two_terms.broken_lines.items():
        assert word in found[(damaged, line)]
    with totals.rejects_path.open(newline="", encoding="utf-8") as handle:
        written = [(row["file"], int(row["line"])) for row in csv.DictReader(handle)]
    assert written == sorted(found)

    written_rows = sum(len(split_lines(path)[1]) for path in two_terms.files)
    assert totals.read == written_rows
    assert totals.read == totals.loaded + totals.duplicates + totals.rejected
    assert totals.duplicates == two_terms.overlap
    assert totals.rejected == 3
    # What dbt received is what the import loaded, each row used, excluded or quarantined.
    reconciliation = two_terms.workspace.query(
        "select sum(log_rows), max(raw_log_rows) from analytics_marts.rpt_log_reconciliation"
    )
    assert reconciliation == [(totals.loaded, totals.loaded)]


def test_one_command_builds_a_site_level_download_of_a_first_term(one_term: Build):
    workspace = one_term.workspace
    assert f"marts built in {workspace.warehouse}" in one_term.output
    learners, dates = loaded_learners(workspace.source), loaded_dates(workspace.source)
    expected = csv_learner_weeks(one_term.downloads, one_term.courses, learners, dates)
    assert mart_learner_weeks(workspace) == expected
    assert sum(expected.values()) > 1000
    # One term: no course has ended, so there is no outcome to learn risk from.
    assert not any(end for _, end in dates.values())
    statuses = workspace.query("select distinct course_status from analytics_marts.dim_courses")
    assert ("finished",) not in statuses


def test_gradebook_exports_give_the_final_grades(site: Path, two_terms: Build):
    with duckdb.connect(str(site), read_only=True) as con:
        user_by_email = dict(con.execute("SELECT email, id FROM public.mdl_user").fetchall())
        # The log has no e-mail addresses: namesakes cannot be told apart.
        namesakes = {
            row[0]
            for row in con.execute(
                "SELECT id FROM public.mdl_user WHERE (firstname, lastname) IN "
                "(SELECT (firstname, lastname) FROM public.mdl_user GROUP BY 1 HAVING count(*) > 1)"
            ).fetchall()
        }
    assert two_terms.gradebooks
    for course, path in two_terms.gradebooks.items():
        expected = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                user, total = user_by_email[row["Email address"]], row["Course total (Real)"]
                if total != "-" and user not in namesakes:
                    expected[user] = float(total) / 100
        found = dict(
            two_terms.workspace.query(
                f"""
                select learners.user_id, courses.final_grade_share
                from analytics_marts.fct_learner_courses as courses
                inner join analytics_intermediate.int_course_learners as learners
                    on courses.learner_course_id = learners.learner_course_id
                where courses.course_id = {course} and courses.final_grade_share is not null
                """
            )
        )
        found = {user: share for user, share in found.items() if user not in namesakes}
        assert len(expected) >= 3
        assert found == pytest.approx(expected, abs=1e-9)


def test_two_terms_running_courses_are_scored_by_a_model_of_last_term(site: Path, two_terms: Build):
    past, running, _ = term_courses(site)
    workspace = two_terms.workspace
    latest = workspace.query(
        """
        select course_id, score_method, min(training_learner_courses),
            max(model_trained_until_at), min(observed_at)
        from analytics_ml.fct_learner_risk_scores
        where is_latest_week
        group by 1, 2
        """
    )
    methods = {course: method for course, method, *_ in latest}
    # Last term had no history: the starter score. This term: a model of last
    # term, or the starter score where no model did better on it.
    assert {methods[course] for course in past} == {"starter"}
    assert {methods[course] for course in running} <= {"model", "starter"}
    # Trained on every learner-course of last term, and only on what was known then.
    labelled = workspace.query(
        "select count(*), max(course_ends_at) from analytics_marts.fct_learner_courses "
        f"where is_outcome_known and course_id in ({','.join(map(str, past))})"
    )[0]
    for course, _, trained_on, trained_until, observed in latest:
        if course in running:
            assert trained_on == labelled[0]
            assert trained_until <= labelled[1] < observed
    assert "risk scores:" in two_terms.output
    assert " trained on " in two_terms.output or "starter score kept" in two_terms.output


def test_one_term_falls_back_on_the_starter_score_and_says_why(one_term: Build):
    methods = dict(
        one_term.workspace.query(
            "select score_method, count(*) from analytics_ml.fct_learner_risk_scores group by 1"
        )
    )
    # The rule-based score only in course weeks too small to compare within.
    assert set(methods) <= {"starter", "rule_based"} and methods["starter"] > 0
    # dbt's message, and the command's summary of it.
    assert "starter score, the shipped calibration" in one_term.output
    assert "too little labelled history" in one_term.output
    assert "by the starter score" in one_term.output
