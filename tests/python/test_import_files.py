"""Exports of Moodle's tables (Parquet or CSV) load back exactly, and bad exports say why."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter

import duckdb
import pandas as pd
import pytest

from dbt_project import BIN_DIR, generate_demo
from moodle_analytics.event_catalogue import load_event_catalogue
from moodle_analytics.import_files import LEGACY_EVENTS, ExportDirectoryError, import_files
from moodle_analytics.moodle_db.tables import MOODLE_TABLES


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("export_site"), "--learners-per-course", "10")


def export(site, directory, file_format):
    directory.mkdir()
    options = {"parquet": "(format parquet)", "csv": "(header, delimiter ',', nullstr '\\N')"}
    with duckdb.connect(str(site.source), read_only=True) as connection:
        for table in MOODLE_TABLES:
            connection.execute(
                f"copy public.mdl_{table} to '{directory}/mdl_{table}.{file_format}' "
                f"{options[file_format]}"
            )
    return directory


def differing_rows(left, right) -> dict[str, int]:
    differences = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{left}' as left_db (read_only)")
        connection.execute(f"attach '{right}' as right_db (read_only)")
        for table in MOODLE_TABLES:
            a, b = f"left_db.public.mdl_{table}", f"right_db.public.mdl_{table}"
            count = connection.execute(
                f"select count(*) from ((select * from {a} except all select * from {b}) "
                f"union all (select * from {b} except all select * from {a}))"
            ).fetchone()[0]
            if count:
                differences[table] = count
    return differences


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_an_export_loads_back_exactly(small_site, tmp_path, file_format):
    directory = export(small_site, tmp_path / file_format, file_format)
    report = import_files(directory, tmp_path / "imported.duckdb")
    assert report.missing_tables == []
    assert report.rows["logstore_standard_log"] > 10000
    assert differing_rows(small_site.source, tmp_path / "imported.duckdb") == {}


def test_a_psql_style_csv_with_empty_nulls_loads(small_site, tmp_path):
    directory = export(small_site, tmp_path / "csv", "parquet")
    # psql's CSV writes NULL as an empty field: numbers must still load.
    log = directory / "mdl_logstore_standard_log.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select * from read_parquet('{log}')) "
            f"to '{directory}/mdl_logstore_standard_log.csv' (header, delimiter ',')"
        )
    log.unlink()
    import_files(directory, tmp_path / "imported.duckdb")
    with duckdb.connect(str(tmp_path / "imported.duckdb"), read_only=True) as connection:
        nulls = connection.execute(
            "select count(*) from public.mdl_logstore_standard_log where objectid is null"
        ).fetchone()[0]
    assert nulls > 0


def test_missing_optional_tables_stay_empty_and_extra_columns_are_reported(small_site, tmp_path):
    directory = export(small_site, tmp_path / "parquet", "parquet")
    (directory / "mdl_feedback.parquet").unlink()
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select *, 'x' as column_of_a_newer_moodle from "
            f"read_parquet('{directory}/mdl_course.parquet')) to '{directory}/mdl_course2.parquet'"
        )
    shutil.move(directory / "mdl_course2.parquet", directory / "mdl_course.parquet")
    report = import_files(directory, tmp_path / "imported.duckdb")
    assert report.missing_tables == ["feedback"]
    assert report.extra_columns["course"] == ["column_of_a_newer_moodle"]


def test_a_directory_without_the_log_is_refused(small_site, tmp_path):
    directory = export(small_site, tmp_path / "parquet", "parquet")
    (directory / "mdl_logstore_standard_log.parquet").unlink()
    with pytest.raises(ExportDirectoryError, match="mdl_logstore_standard_log"):
        import_files(directory, tmp_path / "imported.duckdb")


def test_a_value_of_the_wrong_type_is_named_with_its_file(small_site, tmp_path):
    directory = export(small_site, tmp_path / "csv", "csv")
    path = directory / "mdl_course.csv"
    lines = path.read_text().splitlines()
    lines[2] = "not-a-number" + lines[2][lines[2].index(",") :]
    path.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [str(BIN_DIR / "moodle-import-files"), "--from-dir", str(directory),
         "--duckdb", str(tmp_path / "imported.duckdb")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    assert "mdl_course.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_legacy_action_maps_to_a_known_event():
    catalogue = load_event_catalogue()
    assert {name for name in LEGACY_EVENTS.values()} <= set(catalogue)


# Legacy (module, action) of a standard event, for writing a Moodle 2.x log from one.
LEGACY_OF = {}
for key, name in LEGACY_EVENTS.items():
    LEGACY_OF.setdefault(name, key)
# Actions of Moodle 2.x that no standard event replaces one for one.
LEGACY_ONLY = [("course", "report log"), ("chat", "talk"), ("course", "report outline")]


def write_legacy_log(site, directory, before: int | None = None) -> dict:
    """mdl_log.csv in Moodle 2.x's shape, from the demo's log: mapped events in their
    legacy form, plus actions no standard event replaces; counts of what it holds."""
    with duckdb.connect(str(site.source), read_only=True) as connection:
        log = connection.execute(
            "select id, timecreated, userid, ip, courseid, eventname, contextlevel, "
            "contextinstanceid, objectid from public.mdl_logstore_standard_log order by id"
        ).df()
    log = log[log["eventname"].isin(LEGACY_OF)].copy()
    if before is not None:
        log["timecreated"] = log["timecreated"] - before
    log["module"] = log["eventname"].map(lambda name: LEGACY_OF[name][0])
    log["action"] = log["eventname"].map(lambda name: LEGACY_OF[name][1])
    log["cmid"] = log["contextinstanceid"].where(log["contextlevel"] == 70, 0)
    extra = log.head(len(LEGACY_ONLY) * 5).copy()
    extra["module"] = [m for m, _ in LEGACY_ONLY] * 5
    extra["action"] = [a for _, a in LEGACY_ONLY] * 5
    extra["eventname"] = None
    rows = pd.concat([log, extra], ignore_index=True)
    rows["id"] = range(1, len(rows) + 1)
    legacy = pd.DataFrame(
        {
            "id": rows["id"], "time": rows["timecreated"], "userid": rows["userid"],
            "ip": rows["ip"].fillna(""), "course": rows["courseid"].fillna(0).astype("int64"),
            "module": rows["module"], "cmid": rows["cmid"].astype("int64"),
            "action": rows["action"], "url": "view.php?id=1",
            "info": rows["objectid"].fillna(0).astype("int64").astype(str),
        }
    )  # fmt: skip
    legacy.to_csv(directory / "mdl_log.csv", index=False)
    return {"rows": len(legacy), "mapped": len(log), "events": Counter(log["eventname"])}


def test_a_moodle_2_site_with_only_the_legacy_log_builds_its_standard_log(small_site, tmp_path):
    directory = export(small_site, tmp_path / "csv", "csv")
    (directory / "mdl_logstore_standard_log.csv").unlink()
    written = write_legacy_log(small_site, directory)
    report = import_files(directory, tmp_path / "imported.duckdb")
    legacy = report.legacy
    assert (legacy.read, legacy.added, legacy.after_standard_log) == (written["rows"],) * 2 + (0,)
    assert legacy.mapped == written["mapped"] > 1000
    assert legacy.unknown == {"chat talk": 5, "course report log": 5, "course report outline": 5}
    assert "logstore_standard_log" not in report.missing_tables
    with duckdb.connect(str(tmp_path / "imported.duckdb"), read_only=True) as connection:
        events = Counter(
            dict(
                connection.execute(
                    "select eventname, count(*) from public.mdl_logstore_standard_log "
                    "where eventname not like '\\unknown\\legacy\\%' group by 1"
                ).fetchall()
            )
        )
        # Rows whose course or activity has a context point at it.
        missing_context = connection.execute(
            "select count(*) from public.mdl_logstore_standard_log l "
            "join public.mdl_context x on x.contextlevel = l.contextlevel "
            "and x.instanceid = l.contextinstanceid where l.contextid <> x.id"
        ).fetchone()[0]
        views_without_object = connection.execute(
            "select count(*) from public.mdl_logstore_standard_log "
            "where eventname like '%course_module_viewed' and objectid is null"
        ).fetchone()[0]
    # Every collapsed pair (course view and recent, user and course login) reads back as one.
    assert events == written["events"]
    assert missing_context == 0 and views_without_object == 0


def test_legacy_history_before_the_standard_log_is_added(small_site, tmp_path):
    directory = export(small_site, tmp_path / "parquet", "parquet")
    decade = 10 * 365 * 24 * 3600
    written = write_legacy_log(small_site, directory, before=decade)
    report = import_files(directory, tmp_path / "imported.duckdb")
    legacy = report.legacy
    # Moved ten years back, the history comes before the standard log but for the rows
    # dated in the future by a clock error (the demo's year 2038).
    assert legacy.added + legacy.after_standard_log == legacy.read == written["rows"]
    assert 0 < legacy.after_standard_log < 0.01 * written["rows"]
    standard = report.rows["logstore_standard_log"] - legacy.added
    with duckdb.connect(str(small_site.source), read_only=True) as connection:
        assert (
            standard
            == connection.execute(
                "select count(*) from public.mdl_logstore_standard_log"
            ).fetchone()[0]
        )
