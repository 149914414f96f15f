"""Exports of Moodle's tables (Parquet or CSV) load back exactly, and bad exports say why."""

from __future__ import annotations

import shutil
import subprocess

import duckdb
import pytest

from dbt_project import BIN_DIR, generate_demo
from moodle_analytics.import_files import ExportDirectoryError, import_files
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
