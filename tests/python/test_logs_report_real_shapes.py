"""Logs report downloads in the shapes real teachers' files have.

Each fixture under fixtures/logs_report is written by hand in the shape of a
real download (see fixtures/logs_report/README.md); the tests load it and
check the counts: rows read, loaded, rejected, people, dates, submissions and
attempts.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from moodle_analytics.logs_report.importer import ImportOptions, import_logs
from moodle_analytics.logs_report.load import main as import_main

FIXTURES = Path(__file__).parent / "fixtures" / "logs_report"
MASKED = FIXTURES / "masked_moodle2_course.csv"
# Six pseudonymous learners, a term from 16 September 2024 over New Year to January 2025.
LEARNERS = {"Qm3xT9aa", "Lp0sW2bb", "Zr7kN4cc", "Hv5jR8dd", "Tb2mC6ee", "Wy9fD1ff"}
TERM_START = date(2024, 9, 16)


def records(path: Path) -> list[dict[str, str]]:
    """The download's rows as the csv module reads them (not the loader)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def load(paths: list[Path], target: Path, **options):
    totals = import_logs(paths, target, ImportOptions(**options))
    return duckdb.connect(str(target), read_only=True), totals


def epoch(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "placing",
    [{"term_start": TERM_START}, {"year": 2024}, {"course_end": date(2025, 1, 31)}],
    ids=["term_start", "year", "course_end"],
)
def test_masked_ids_are_told_apart_by_name_and_year_less_times_are_placed(
    tmp_path: Path, placing: dict
):
    rows = records(MASKED)
    assert {row["User full name"] for row in rows} == LEARNERS
    assert all("'x'" in row["Description"] for row in rows)
    loaded, totals = load([MASKED], tmp_path / "masked.duckdb", **placing)

    # 29 February does not exist in 2025: that row alone is rejected, with why.
    assert totals.read == len(rows) == totals.loaded + totals.duplicates + totals.rejected
    assert totals.rejected == 1 and totals.duplicates == 0
    assert "no date of that year" in totals.rejects[0].reason
    assert totals.unknown_events == 0
    assert any("User full name" in warning for warning in totals.warnings)
    assert totals.learners == len(LEARNERS) and totals.teachers == 0

    names = loaded.execute("select firstname from public.mdl_user").fetchall()
    assert {name for (name,) in names} == LEARNERS
    first, last = loaded.execute(
        "select min(timecreated), max(timecreated) from public.mdl_logstore_standard_log"
    ).fetchone()
    # Grouped by user, the rows jump back and forth in time: never a year astray.
    assert (first, last) == (epoch(2024, 9, 16) + 9 * 3600, epoch(2025, 1, 22) + 14 * 3600 + 120)
    january = loaded.execute(
        "select count(*) from public.mdl_logstore_standard_log "
        f"where timecreated >= {epoch(2025, 1, 1)}"
    ).fetchone()[0]
    assert january == sum(" Jan," in row["Time"] for row in rows)


def test_what_the_log_shows_of_submissions_and_attempts_is_written(tmp_path: Path):
    loaded, _ = load([MASKED], tmp_path / "masked.duckdb", term_start=TERM_START)
    rows = records(MASKED)
    statements = [r for r in rows if r["Event name"].startswith("The user has accepted")]
    submissions = loaded.execute(
        "select u.firstname, s.status, s.timemodified from public.mdl_assign_submission s "
        "join public.mdl_user u on u.id = s.userid join public.mdl_assign a "
        "on a.id = s.assignment where a.name = 'Lab report 1'"
    ).fetchall()
    assert {(name, status) for name, status, _ in submissions} == {
        (row["User full name"], "submitted") for row in statements
    }
    assert len(submissions) == len(statements) == 5
    reviewed = [r for r in rows if r["Event name"] == "Quiz attempt reviewed"]
    attempts = loaded.execute(
        "select u.firstname, a.state, a.preview, a.sumgrades, a.timefinish - a.timestart "
        "from public.mdl_quiz_attempts a join public.mdl_user u on u.id = a.userid"
    ).fetchall()
    # Finished when the summary was last seen before the review; no marks.
    assert sorted(attempts) == sorted(
        (row["User full name"], "finished", 0, None, 8 * 60) for row in reviewed
    )
    # The log's rows about them point at them.
    pointing = loaded.execute(
        "select count(*) from public.mdl_logstore_standard_log l "
        "join public.mdl_quiz_attempts a on a.id = l.objectid "
        "where l.objecttable = 'quiz_attempts'"
    ).fetchone()[0]
    assert pointing == 3 * len(reviewed)


def test_a_download_that_tells_no_one_apart_stops(tmp_path: Path, capsys):
    anonymous = tmp_path / "anonymous.csv"
    text = MASKED.read_text(encoding="utf-8")
    for name in LEARNERS:
        text = text.replace(f",{name},", ",-,")
    anonymous.write_text(text, encoding="utf-8")
    target = tmp_path / "anonymous.duckdb"
    code = import_main([str(anonymous), "--duckdb", str(target), "--term-start", "2024-09-16"])
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("moodle-logs-import: error: anonymous.csv: ")
    assert "name no user" in error and "Traceback" not in error


def test_a_year_less_download_without_a_year_is_rejected_row_by_row(tmp_path: Path):
    _, totals = load([MASKED], tmp_path / "masked.duckdb")
    assert totals.loaded == 0 and totals.rejected == totals.read == len(records(MASKED))
    assert "--term-start" in totals.rejects[0].reason


def test_an_outcomes_file_is_no_gradebook(tmp_path: Path, capsys):
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(
        "StudentId,Quiz(out of 15),Labs (out of 15),Exam,Overall\nQm3xT9aa,8,6,66,59\n",
        encoding="utf-8",
    )
    arguments = [str(MASKED), "--duckdb", str(tmp_path / "x.duckdb"), "--term-start", "2024-09-16"]
    assert import_main([*arguments, "--grades", str(outcomes)]) == 2
    error = capsys.readouterr().err
    assert "not a Moodle gradebook export" in error
    assert "First name, Last name" in error and "StudentId" in error
