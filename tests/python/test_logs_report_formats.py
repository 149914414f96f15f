"""Logs report downloads as Moodle writes them: quoted fields over several lines,
every line ending, month-first dates, headers in other languages, the Excel,
ODS and JSON downloads, one course downloaded in two terms, plugin events and
empty files. Fixtures are written by hand (fixtures/logs_report) or here, in
the shapes real downloads have; each test checks the counts."""

from __future__ import annotations

import csv
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from moodle_analytics.logs_report.importer import ImportOptions, import_logs
from moodle_analytics.logs_report.load import main as import_main
from moodle_analytics.logs_report.reading import DownloadError
from spreadsheet_files import write_json, write_ods, write_xlsx

FIXTURES = Path(__file__).parent / "fixtures" / "logs_report"
MULTILINE = FIXTURES / "multiline_labels_moodle4.csv"
LOG_COLUMNS = (
    "eventname, userid, relateduserid, courseid, contextlevel, contextinstanceid, crud, "
    "edulevel, timecreated, origin, ip"
)


def load(paths: list[Path], target: Path, **options):
    totals = import_logs(paths, target, ImportOptions(**options))
    return duckdb.connect(str(target), read_only=True), totals


def log_of(connection) -> list[tuple]:
    return connection.execute(
        f"select {LOG_COLUMNS} from public.mdl_logstore_standard_log order by id"
    ).fetchall()


def good_rows(path: Path) -> list[list[str]]:
    """The fixture's readable rows, as the csv module reads them (the header first)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return [row for row in rows if len(row) == len(rows[0])]


def test_quoted_fields_over_several_lines_are_one_row(tmp_path: Path):
    loaded, totals = load([MULTILINE], tmp_path / "multiline.duckdb")
    # 7 records (two labels over 3 and 7 lines) and 1 whose quote never closes.
    assert (totals.read, totals.loaded, totals.rejected) == (8, 7, 1)
    assert totals.rejects[0].line == 17 and "quote" in totals.rejects[0].reason
    labels = loaded.execute(
        "select cm.id from public.mdl_course_modules cm "
        "join public.mdl_modules m on m.id = cm.module where m.name = 'label' order by 1"
    ).fetchall()
    assert labels == [(701,), (702,)]
    assert totals.learners == 2 and totals.teachers == 1


@pytest.mark.parametrize("ending", ["\r", "\n"])
def test_every_line_ending_reads_the_same(tmp_path: Path, ending: str):
    text = MULTILINE.read_bytes().decode("utf-8").replace("\r\n", ending)
    other = tmp_path / "other.csv"
    other.write_bytes(text.encode("utf-8"))
    expected, _ = load([MULTILINE], tmp_path / "crlf.duckdb")
    loaded, totals = load([other], tmp_path / "other.duckdb")
    assert (totals.read, totals.loaded, totals.rejected) == (8, 7, 1)
    assert log_of(loaded) == log_of(expected)


@pytest.mark.parametrize("writer", [write_xlsx, write_ods, write_json], ids=["xlsx", "ods", "json"])
def test_excel_ods_and_json_downloads_load_as_the_csv(tmp_path: Path, writer):
    rows = good_rows(MULTILINE)
    as_csv = tmp_path / "download.csv"
    with as_csv.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    expected, csv_totals = load([as_csv], tmp_path / "csv.duckdb")
    # The format is told by the content: the name need not say it.
    spreadsheet = writer(tmp_path / "download.bin", rows)
    loaded, totals = load([spreadsheet], tmp_path / "other.duckdb")
    assert (totals.read, totals.loaded, totals.rejected) == (7, 7, 0)
    assert log_of(loaded) == log_of(expected)
    assert (
        (totals.learners, totals.teachers) == (csv_totals.learners, csv_totals.teachers) == (2, 1)
    )


def test_month_first_dates_are_told_by_the_dates_or_asked_for(tmp_path: Path, capsys):
    rows = good_rows(MULTILINE)
    # The same rows as a download in a month-first locale, with 12-hour times.
    us_rows = [rows[0]]
    for row in rows[1:]:
        moment = datetime.strptime(row[0], "%d/%m/%y, %H:%M:%S")
        us_rows.append([moment.strftime("%m/%d/%y, %I:%M:%S %p"), *row[1:]])
    us = tmp_path / "us.csv"
    with us.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(us_rows)
    expected, _ = load([MULTILINE], tmp_path / "uk.duckdb")
    loaded, totals = load([us], tmp_path / "us.duckdb")
    assert totals.loaded == 7 and log_of(loaded) == log_of(expected)
    # Dates from 1 to 12 of a month fit both orders: the import asks.
    early = tmp_path / "early.csv"
    with early.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows[0])
        for day, row in enumerate(rows[1:], start=1):
            writer.writerow([f"0{day}/1{day % 3}/24, 10:00:00", *row[1:]])
    target = str(tmp_path / "early.duckdb")
    assert import_main([str(early), "--duckdb", target]) == 2
    assert "--date-order" in capsys.readouterr().err
    assert import_main([str(early), "--duckdb", target, "--date-order", "mdy", "--quiet"]) == 0
    assert "loaded 7" in capsys.readouterr().out


GERMAN = ["Zeit", "Vollständiger Name", "Betroffene/r Nutzer/in", "Ereigniskontext",
          "Komponente", "Ereignisname", "Beschreibung", "Ursprung", "IP-Adresse"]  # fmt: skip
ENGLISH = ["Time", "User full name", "Affected user", "Event context", "Component",
           "Event name", "Description", "Origin", "IP address"]  # fmt: skip


def test_a_header_in_another_language_is_mapped_by_columns(tmp_path: Path, capsys):
    rows = good_rows(MULTILINE)
    german = tmp_path / "german.csv"
    with german.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([GERMAN, *rows[1:]])
    target = str(tmp_path / "german.duckdb")
    assert import_main([str(german), "--duckdb", target]) == 2
    error = capsys.readouterr().err
    assert "german.csv: not a Logs report download" in error and "--columns" in error
    assert "Traceback" not in error
    mapping = [f"--columns={g}={e}" for g, e in zip(GERMAN, ENGLISH, strict=True)]
    assert import_main([str(german), "--duckdb", target, "--quiet", *mapping]) == 0
    assert "loaded 7" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        import_main([str(german), "--columns", "Zeit=Uhrzeit"])
    assert "COLUMN one of" in capsys.readouterr().err


def test_an_empty_download_stops_the_import_naming_it(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DownloadError, match=r"empty\.csv is empty \(0 bytes\)"):
        load([empty, MULTILINE], tmp_path / "with_empty.duckdb")
    header_only = tmp_path / "header_only.csv"
    header_only.write_text(MULTILINE.read_text(encoding="utf-8").splitlines()[0] + "\n")
    with pytest.raises(DownloadError, match=r"header_only\.csv has a header alone"):
        load([MULTILINE, header_only], tmp_path / "with_empty.duckdb")
    assert not (tmp_path / "with_empty.duckdb").exists()


def term_download(path: Path, course_name: str, monday: datetime, learners: range) -> Path:
    """A course download of course 111 (Moodle 3.x format) over ten weeks, with a
    third-party plugin's event each week (a learner marking their attendance),
    newest first."""
    rows = []
    for week in range(10):
        for user in learners:
            moment = monday + timedelta(days=7 * week + user % 5, hours=9 + user % 7)
            rows.append(
                [
                    moment,
                    "System",
                    "Course viewed",
                    f"Course: {course_name}",
                    f"The user with id '{user}' viewed the course with id '111'.",
                ]
            )
            rows.append(
                [
                    moment + timedelta(minutes=5),
                    "Quiz",
                    "Course module viewed",
                    "Quiz: Quiz 1",
                    f"The user with id '{user}' viewed the 'quiz' "
                    "activity with course module id '13052'.",
                ]
            )
        moment = monday + timedelta(days=7 * week + 2, hours=8)
        rows.append([moment, "Attendance", "Attendance taken by student", "Attendance: Roll call",
                     f"The user with id '{learners[0]}' took attendance in the course module "
                     "with id '13060'."])  # fmt: skip
    rows.sort(key=lambda row: row[0], reverse=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ENGLISH)
        for moment, component, event, context, description in rows:
            name = f"Learner {description.split(chr(39))[1]}"
            writer.writerow([moment.strftime("%d/%m/%y, %H:%M"), name, "-", context, component,
                             event, description, "web", "10.0.0.1"])  # fmt: skip
    return path


def test_one_course_downloaded_in_two_terms_is_two_offerings(tmp_path: Path):
    fall_2019 = term_download(
        tmp_path / "oop_2019.csv", "Object Oriented Programming (F19)",
        datetime(2019, 9, 16), range(10, 20),
    )  # fmt: skip
    fall_2020 = term_download(
        tmp_path / "oop_2020.csv", "Object Oriented Programming (F20)",
        datetime(2020, 9, 14), range(15, 27),
    )  # fmt: skip
    loaded, totals = load([fall_2019, fall_2020], tmp_path / "terms.duckdb")
    assert totals.read == totals.loaded == 2 * (10 * 10 + 10 * 12 + 10) + 0
    assert totals.rejected == totals.duplicates == 0
    # Plugin events are kept, named and counted.
    assert totals.unknown_events == 20
    assert totals.unknown_event_names == {"Attendance / Attendance taken by student": 20}
    assert "unknown: Attendance / Attendance taken by student (20)" in totals.summary()
    courses = loaded.execute("select id, fullname from public.mdl_course order by id").fetchall()
    assert courses == [
        (111, "Object Oriented Programming (F19)"),
        (112, "Object Oriented Programming (F20)"),
    ]
    assert any("kept as separate offerings" in note for note in totals.notes)
    # Each offering has its own learners, activities and dates; none overlap.
    per_course = loaded.execute(
        "select e.courseid, count(distinct ue.userid), min(ue.timestart) "
        "from public.mdl_user_enrolments ue join public.mdl_enrol e on e.id = ue.enrolid "
        "join public.mdl_role_assignments ra on ra.userid = ue.userid and ra.roleid = 5 "
        "join public.mdl_context x on x.id = ra.contextid and x.instanceid = e.courseid "
        "group by 1 order by 1"
    ).fetchall()
    assert [(course, learners) for course, learners, _ in per_course] == [(111, 10), (112, 12)]
    activities = loaded.execute(
        "select course, count(*) from public.mdl_course_modules group by 1 order by 1"
    ).fetchall()
    assert activities == [(111, 2), (112, 2)]  # the quiz and the roll call, each renumbered
    quiz_views = loaded.execute(
        "select courseid, count(*) from public.mdl_logstore_standard_log "
        "where eventname = '\\mod_quiz\\event\\course_module_viewed' group by 1 order by 1"
    ).fetchall()
    assert quiz_views == [(111, 100), (112, 120)]


def test_make_logs_report_takes_file_names_with_spaces(tmp_path: Path):
    """make passes each download to the import whole (stand-in commands record them)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "arguments.txt"
    (bin_dir / "moodle-logs-import").write_text(
        f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "{record}"\n'
    )
    (bin_dir / "moodle-dashboard").write_text("#!/bin/sh\n")
    (bin_dir / "moodle-pseudonym-secret").write_text(f"#!/bin/sh\necho {'s' * 64}\n")
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    (bin_dir / ".installed").touch()
    one = tmp_path / "Moodle Module 3 SP17.csv"
    two = tmp_path / "Module 3 SP18.csv"
    project = Path(__file__).resolve().parents[2]

    def make(**variables: str) -> list[str]:
        settings = [f"{name}={value}" for name, value in variables.items()]
        subprocess.run(
            ["make", "-s", "-C", str(project), "logs-report", f"BIN={bin_dir}",
             f"DATA={tmp_path}", *settings],
            check=True, capture_output=True,
        )  # fmt: skip
        return record.read_text().splitlines()

    for path in (one, two):
        path.write_text("")
    assert make(FILES=str(one))[0] == str(one)
    arguments = make(FILES=f"'{one}' '{two}'", GRADES=f"'{two}'")
    assert arguments[:4] == [str(one), str(two), "--grades", str(two)]
