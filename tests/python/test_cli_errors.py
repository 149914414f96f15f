"""Every command line, fed bad input: one line naming the file, status 2, nothing lost.

Each case runs a command's main() on one bad input (a missing, empty, header-only,
garbage or wrong kind of file, a place that cannot be written) and checks that it
ends with status 2 and one line on stderr, `<command>: error: ...`, that names the
file, without a traceback; for the commands that write the Moodle source file, that
the previous file is unchanged (its bytes and its tables' row counts). Other tests
show the writes are atomic when they succeed, under a reader, and after a crash.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import random
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from moodle_analytics.demo.cli import main as demo_main
from moodle_analytics.logs_report.export import export_logs_report
from moodle_analytics.moodle_db.duckdb_files import (
    DuckDBFileError,
    is_duckdb_database,
    replaced_atomically,
)
from moodle_analytics.moodle_db.tables import MOODLE_TABLES

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCRIPTS = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["scripts"]
SMALL_SITE = ("--terms", "1", "--courses-per-term", "1", "--learners-per-course", "5")


@dataclass(frozen=True)
class Site:
    """A small demo site, its tables as CSV exports and one course's Logs download."""

    source: Path
    exports: Path
    download: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    directory = tmp_path_factory.mktemp("cli_errors_site")
    source = directory / "moodle_source.duckdb"
    # A 0-byte file where the source goes holds nothing to lose: the demo replaces it.
    source.write_bytes(b"")
    status = demo_main(
        ["--duckdb", str(source), "--ground-truth", str(directory / "truth.csv"),
         "--csv-dir", str(directory / "exports"), "--no-progress", *SMALL_SITE]
    )  # fmt: skip
    assert status == 0 and is_duckdb_database(source)
    with duckdb.connect(str(source), read_only=True) as connection:
        course = connection.execute(
            "select courseid from public.mdl_logstore_standard_log where courseid > 1 "
            "group by 1 order by count(*) desc limit 1"
        ).fetchone()[0]
    download = directory / "course_logs.csv"
    assert export_logs_report(source, download, course) > 100
    return Site(source, directory / "exports", download)


def fingerprint(path: Path) -> tuple[str, dict[str, int] | None]:
    """A file's bytes (hashed) and, for a DuckDB Moodle source, its tables' row counts."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not is_duckdb_database(path):
        return digest, None
    with duckdb.connect(str(path), read_only=True) as connection:
        counts = {
            table: connection.execute(f'select count(*) from public."mdl_{table}"').fetchone()[0]
            for table in MOODLE_TABLES
        }
    return digest, counts


class Inputs:
    """The bad inputs of one test, made in its own directory on demand."""

    def __init__(self, directory: Path, site: Site):
        self.dir = directory
        self.site = site

    def file(self, name: str, content: bytes | str) -> str:
        path = self.dir / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    @property
    def target(self) -> str:
        """A copy of the source where an import writes: it must survive a failed one."""
        path = self.dir / "moodle_source.duckdb"
        if not path.exists():
            shutil.copyfile(self.site.source, path)
        return str(path)

    @property
    def text_duckdb(self) -> str:
        return self.file("notes.duckdb", "hello, not a database\n")

    @property
    def empty_duckdb(self) -> str:
        return self.file("empty.duckdb", b"")

    @property
    def warehouse(self) -> str:
        """A DuckDB file without tables: enough to pass to the output checks."""
        path = self.dir / "warehouse.duckdb"
        duckdb.connect(str(path)).close()
        return str(path)

    def unwritable(self, name: str) -> str:
        """A path under a regular file: no one (root included) can create it."""
        self.file("a_file", "x")
        return str(self.dir / "a_file" / name)

    def exports(self, table: str | None = None, content: bytes | str | None = None) -> str:
        """The site's CSV exports, with one table's file replaced by ``content``."""
        directory = self.dir / "exports"
        if not directory.exists():
            shutil.copytree(self.site.exports, directory)
        if table is not None:
            (directory / f"mdl_{table}.csv").write_bytes(
                content.encode() if isinstance(content, str) else content
            )
        return str(directory)

    def exports_with_value(self, table: str, column: str, value: str) -> str:
        """The exports with one row's ``column`` of ``table`` set to ``value``."""
        directory = Path(self.exports())
        path = directory / f"mdl_{table}.csv"
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        rows[1][rows[0].index(column)] = value
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)
        return str(directory)

    def header_of(self, path: Path) -> str:
        return path.read_text(encoding="utf-8").splitlines()[0] + "\n"

    @property
    def download(self) -> str:
        return str(self.site.download)

    def garbage_roster(self) -> str:
        rng = random.Random(19)
        names = ["".join(rng.choice("qwxz!%# ") for _ in range(12)) for _ in range(106)]
        return self.file("garbage_roster.csv", "\n".join(names) + "\n")

    def unreadable_download(self) -> str:
        """A download whose every row has a time that is no time."""
        lines = self.site.download.read_text(encoding="utf-8").splitlines()
        rows = list(csv.reader(lines[:4]))
        for row in rows[1:]:
            row[0] = "sometime"
        return self.file("unreadable.csv", "\n".join(",".join(row) for row in rows) + "\n")


@dataclass(frozen=True)
class Case:
    command: str
    argv: Callable[[Inputs], list[str]]
    names: str  # what the one line must name (the file, or the option and file)
    keeps: str | None = None  # an Inputs path that must be unchanged afterwards

    def __str__(self) -> str:
        return f"{self.command}: {self.names}"


def case(command: str, names: str, argv: Callable[[Inputs], list[str]], keeps=None) -> Case:
    return Case(command, argv, names, keeps)


IMPORT = "moodle-import-files"
LOGS = "moodle-logs-import"
CASES = [
    # moodle-demo-data: every output checked before a site is generated
    case("moodle-demo-data", "notes.duckdb is not a DuckDB database",
         lambda i: ["--duckdb", i.text_duckdb], keeps="text_duckdb"),
    case("moodle-demo-data", "a_file is not a directory",
         lambda i: ["--duckdb", i.unwritable("site.duckdb")]),
    case("moodle-demo-data", "--ground-truth",
         lambda i: ["--duckdb", i.target, "--ground-truth", i.unwritable("t.csv")], "target"),
    case("moodle-demo-data", "--csv-dir",
         lambda i: ["--duckdb", i.target, "--csv-dir", i.unwritable("csv")], "target"),
    # moodle-import-files: the source file survives every failed import
    case(IMPORT, "--from-dir", lambda i: ["--from-dir", str(i.dir / "nowhere"),
                                          "--duckdb", i.target], "target"),
    case(IMPORT, "mdl_course.csv: Conversion Error",
         lambda i: ["--from-dir", i.exports_with_value("course", "id", "abc"),
                    "--duckdb", i.target], "target"),
    case(IMPORT, "mdl_user.csv",
         lambda i: ["--from-dir", i.exports("user", bytes(range(256)) * 20),
                    "--duckdb", i.target], "target"),
    case(IMPORT, "mdl_user.csv is empty (0 bytes)",
         lambda i: ["--from-dir", i.exports("user", b""), "--duckdb", i.target], "target"),
    case(IMPORT, "mdl_course.csv has no rows",
         lambda i: ["--from-dir", i.exports("course", "id,fullname\n"),
                    "--duckdb", i.target], "target"),
    case(IMPORT, "mdl_logstore_standard_log.csv has no rows",
         lambda i: ["--from-dir", i.exports("logstore_standard_log", "id,eventname\n"),
                    "--duckdb", i.target], "target"),
    case(IMPORT, "notes.duckdb is not a DuckDB database",
         lambda i: ["--from-dir", i.exports(), "--duckdb", i.text_duckdb], "text_duckdb"),
    case(IMPORT, "a_file is not a directory",
         lambda i: ["--from-dir", i.exports(), "--duckdb", i.unwritable("x.duckdb")]),
    # moodle-logs-import: empty, header-only, foreign and unreadable inputs
    case(LOGS, "empty.csv is empty (0 bytes)",
         lambda i: [i.file("empty.csv", b""), "--duckdb", i.target], "target"),
    case(LOGS, "header_only.csv has a header alone",
         lambda i: [i.file("header_only.csv", i.header_of(i.site.download)),
                    "--duckdb", i.target], "target"),
    case(LOGS, "prices.csv: not a Logs report download",
         lambda i: [i.file("prices.csv", "name,price\napple,3\n"), "--duckdb", i.target],
         "target"),
    case(LOGS, "unreadable_rejects.csv",
         lambda i: [i.unreadable_download(), "--duckdb", i.target,
                    "--rejects", str(i.dir / "unreadable_rejects.csv")], "target"),
    case(LOGS, "missing.csv: no such file",
         lambda i: [str(i.dir / "missing.csv"), "--duckdb", i.target], "target"),
    case(LOGS, "--roster empty_roster.csv is empty",
         lambda i: [i.download, "--roster", i.file("empty_roster.csv", b""),
                    "--duckdb", i.target], "target"),
    case(LOGS, "header_roster.csv lists no learners",
         lambda i: [i.download, "--roster", i.file("header_roster.csv", "user id\n"),
                    "--duckdb", i.target], "target"),
    case(LOGS, "garbage_roster.csv: none of its 106 learners",
         lambda i: [i.download, "--roster", i.garbage_roster(), "--duckdb", i.target],
         "target"),
    case(LOGS, "--grades grades.csv: no such file",
         lambda i: [i.download, "--grades", str(i.dir / "grades.csv"), "--duckdb", i.target],
         "target"),
    case(LOGS, "notes.duckdb is not a DuckDB database",
         lambda i: [i.download, "--duckdb", i.text_duckdb], "text_duckdb"),
    case(LOGS, "--rejects",
         lambda i: [i.download, "--duckdb", i.target, "--rejects", i.unwritable("r.csv")],
         "target"),
    # the commands that read a Moodle source or a warehouse, and write reports
    case("moodle-logs-export", "empty.duckdb is empty (0 bytes)",
         lambda i: ["--duckdb", i.empty_duckdb, "--out", str(i.dir / "out.csv")]),
    case("moodle-logs-export", "--out",
         lambda i: ["--duckdb", str(i.site.source), "--out", i.unwritable("out.csv")]),
    case("moodle-logs-export", "no log rows of course 999",
         lambda i: ["--duckdb", str(i.site.source), "--course", "999",
                    "--out", str(i.dir / "out.csv")]),
    case("moodle-dashboard", "none.duckdb: no such file; run `dbt build` first",
         lambda i: ["--warehouse", str(i.dir / "none.duckdb"), "--out", str(i.dir / "d.html")]),
    case("moodle-dashboard", "notes.duckdb is not a DuckDB database",
         lambda i: ["--warehouse", i.text_duckdb, "--out", str(i.dir / "d.html")]),
    case("moodle-dashboard", "--source",
         lambda i: ["--warehouse", i.warehouse, "--source", i.empty_duckdb,
                    "--out", str(i.dir / "d.html")]),
    case("moodle-dashboard", "--out",
         lambda i: ["--warehouse", i.warehouse, "--out", i.unwritable("dashboard.html")]),
    case("moodle-messages", "empty.duckdb is empty (0 bytes)",
         lambda i: ["--list", "reminders", "--out", str(i.dir / "m"),
                    "--warehouse", i.empty_duckdb]),
    case("moodle-messages", "--out",
         lambda i: ["--list", "reminders", "--out", i.unwritable("m"),
                    "--warehouse", i.warehouse]),
    case("moodle-messages", "--templates",
         lambda i: ["--list", "reminders", "--out", str(i.dir / "m"),
                    "--templates", str(i.dir / "nowhere"), "--warehouse", i.warehouse]),
    case("moodle-risk-report", "notes.duckdb is not a DuckDB database",
         lambda i: ["--warehouse", i.text_duckdb]),
    case("moodle-risk-report", "--plot",
         lambda i: ["--warehouse", i.warehouse, "--plot", i.unwritable("auc.png")]),
    case("moodle-risk-evaluate", "the outcomes file outcomes.csv is empty (0 bytes)",
         lambda i: [i.file("outcomes.csv", b""), "--learner-column", "id",
                    "--warehouse", i.warehouse, "--source", str(i.site.source)]),
    case("moodle-risk-evaluate", "notes.duckdb is not a DuckDB database",
         lambda i: [i.file("outcomes.csv", "id,result\n1,pass\n"), "--learner-column", "id",
                    "--warehouse", i.text_duckdb, "--source", str(i.site.source)],
         keeps="text_duckdb"),
    case("moodle-risk-evaluate", "--plot",
         lambda i: [i.file("outcomes.csv", "id,result\n1,pass\n"), "--learner-column", "id",
                    "--warehouse", i.warehouse, "--source", str(i.site.source),
                    "--plot", i.unwritable("auc.png")]),
    case("moodle-pseudonym-secret", "cannot keep the pseudonym secret",
         lambda i: ["--file", i.unwritable("pseudonym_secret")]),
    case("moodle-pg", "notes.duckdb is not a DuckDB database",
         lambda i: ["load", "--duckdb", i.text_duckdb]),
    case("moodle-pg", "--parquet-dir",
         lambda i: ["load", "--parquet-dir", str(i.dir / "nowhere")]),
    case("moodle-pg", "empty.duckdb is empty (0 bytes)",
         lambda i: ["bench", "--duckdb", i.empty_duckdb]),
    case("moodle-pg", "--env-file", lambda i: ["start", "--env-file", i.unwritable("pg.env")]),
    case("moodle-mysql", "notes.duckdb is not a DuckDB database",
         lambda i: ["load", "--duckdb", i.text_duckdb]),
    case("moodle-mysql", "--parquet-dir",
         lambda i: ["load", "--parquet-dir", str(i.dir / "nowhere")]),
    case("moodle-mysql", "--env-file",
         lambda i: ["start", "--env-file", i.unwritable("mysql.env")]),
    case("moodle-project-checks", "manifest.json is missing",
         lambda i: ["--target", str(i.dir / "nowhere")]),
    case("moodle-project-checks", "manifest.json is not JSON",
         lambda i: ["--target", str(Path(i.file("manifest.json", "")).parent)]),
    case("moodle-bench", "--out", lambda i: ["--out", i.unwritable("bench.json")]),
    case("moodle-bench", "--work-dir", lambda i: ["--work-dir", i.unwritable("bench")]),
    case("moodle-bench", "profiles.yml: no such file",
         lambda i: ["--profiles-dir", str(i.dir)]),
    case("moodle-spark", "empty.duckdb is empty (0 bytes)",
         lambda i: ["--duckdb", i.empty_duckdb]),
    case("moodle-spark", "warehouse.duckdb is not a Moodle source",
         lambda i: ["--duckdb", i.warehouse]),
    case("moodle-spark", "--parquet-dir", lambda i: ["--parquet-dir", str(i.dir / "nowhere")]),
    case("moodle-spark", "--spark-dir",
         lambda i: ["--duckdb", str(i.site.source), "--spark-dir", i.unwritable("spark")]),
    case("moodle-spark", "--vars: must be a mapping", lambda i: ["--vars", "[1, 2]"]),
]  # fmt: skip


def entry_point(command: str) -> Callable[[list[str]], int]:
    module, function = SCRIPTS[command].split(":")
    return getattr(importlib.import_module(module), function)


def run(command: str, argv: list[str], capsys) -> tuple[object, str]:
    """A command's exit status and what it wrote on stderr."""
    try:
        status = entry_point(command)(argv)
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err


def test_every_command_line_is_fed_bad_input():
    assert {case.command for case in CASES} == set(SCRIPTS)


@pytest.mark.parametrize("bad", CASES, ids=str)
def test_bad_input_is_one_line_naming_it_and_loses_nothing(
    bad: Case, site: Site, tmp_path, monkeypatch, capsys
):
    # Relative defaults (data/..., site/...) land in the test's directory, not the project.
    monkeypatch.chdir(tmp_path)
    for name in (
        "MOODLE_SOURCE_DUCKDB",
        "MOODLE_ANALYTICS_DUCKDB",
        "MOODLE_PG_HOST",
        "MOODLE_PSEUDONYM_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    inputs = Inputs(tmp_path, site)
    argv = bad.argv(inputs)
    kept = Path(getattr(inputs, bad.keeps)) if bad.keeps else None
    before = fingerprint(kept) if kept else None
    status, stderr = run(bad.command, argv, capsys)
    lines = stderr.strip().splitlines()
    assert status == 2, stderr
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    # Files are named as given; the test gives them in its own directory.
    line = lines[0].replace(f"{tmp_path}/", "")
    assert line.startswith(f"{bad.command}") and ": error: " in line, line
    assert bad.names in line
    if kept is not None:
        assert fingerprint(kept) == before, f"{kept} changed"
        if bad.keeps == "target":
            assert line.endswith(f"({kept.name} left as it was)"), line
        partials = list(kept.parent.glob(f".{kept.name}.partial-*"))
        assert partials == [], "a failed load leaves no partial file"


# -- the writes themselves: whole or not at all --------------------------------------


def test_an_import_swaps_in_a_whole_file_under_a_reader(site: Site, tmp_path, capsys):
    inputs = Inputs(tmp_path, site)
    target = Path(inputs.target)
    exports = Path(inputs.exports())
    log = exports / "mdl_logstore_standard_log.csv"
    log.write_text("\n".join(log.read_text().splitlines()[:101]) + "\n")
    count = "select count(*) from public.mdl_logstore_standard_log"
    with duckdb.connect(str(target), read_only=True) as reader:
        before = reader.execute(count).fetchone()[0]
        status, stderr = run(IMPORT, ["--from-dir", str(exports), "--duckdb", str(target)], capsys)
        assert status == 0, stderr
        # A reader that opened the old file (a running dbt build) keeps reading it whole.
        assert reader.execute(count).fetchone()[0] == before > 100
    with duckdb.connect(str(target), read_only=True) as connection:
        assert connection.execute(count).fetchone()[0] == 100
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []


def test_a_stale_write_ahead_log_is_folded_in_before_the_swap(tmp_path):
    target = tmp_path / "source.duckdb"
    # A writer killed after a commit leaves its write-ahead log beside the file.
    writer = (
        "import duckdb, os, sys\n"
        "c = duckdb.connect(sys.argv[1])\n"
        "c.execute('create table old as select 1 as x')\n"
        "c.execute('checkpoint')\n"
        "c.execute('insert into old values (2)')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(target)], check=True)
    assert (tmp_path / "source.duckdb.wal").exists()
    with replaced_atomically(target) as partial, duckdb.connect(str(partial)) as new:
        new.execute("create table new as select 42 as y")
    # DuckDB would have replayed the old log onto the new file and refused to open it.
    with duckdb.connect(str(target), read_only=True) as connection:
        assert connection.execute("select y from new").fetchall() == [(42,)]
    assert not (tmp_path / "source.duckdb.wal").exists()


def test_a_partial_file_of_a_killed_load_is_cleared_and_an_error_keeps_the_old(tmp_path):
    target = tmp_path / "source.duckdb"
    with duckdb.connect(str(target)) as connection:
        connection.execute("create table kept as select 1 as x")
    before = target.read_bytes()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    abandoned = tmp_path / f".source.duckdb.partial-{int(dead.stdout)}"
    abandoned.write_bytes(b"half a load")
    with pytest.raises(RuntimeError, match="load failed"), replaced_atomically(target) as partial:
        assert not abandoned.exists()
        duckdb.connect(str(partial)).close()
        raise RuntimeError("load failed")
    assert target.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["source.duckdb"]


def test_a_file_that_is_no_database_is_never_replaced(tmp_path):
    notes = tmp_path / "notes.duckdb"
    notes.write_text("my notes\n")
    with pytest.raises(DuckDBFileError, match="refusing to replace it"), replaced_atomically(notes):
        pass
    assert notes.read_text() == "my notes\n"


# -- PostgreSQL: the same promise for a schema -----------------------------------------


@pytest.mark.postgres
def test_a_failed_postgres_load_leaves_the_schema_as_it_was(site, pg_server, tmp_path, capsys):
    env_file = tmp_path / "pg.env"
    pg_server.write_env_file(env_file)
    load = ["load", "--env-file", str(env_file), "--database", "moodle", "--no-roles"]
    status, stderr = run("moodle-pg", [*load, "--duckdb", str(site.source)], capsys)
    assert status == 0, stderr
    broken = tmp_path / "duplicate_ids.duckdb"
    shutil.copyfile(site.source, broken)
    with duckdb.connect(str(broken)) as connection:
        # A second course with the first one's id: the primary key fails after the copy.
        connection.execute("insert into public.mdl_course select * from public.mdl_course limit 1")
    status, stderr = run("moodle-pg", [*load, "--duckdb", str(broken), "--replace"], capsys)
    lines = stderr.strip().splitlines()
    assert status == 2 and len(lines) == 1, stderr
    assert "mdl_course" in lines[0] and "moodle.public are as they were" in lines[0]
    conn = pg_server.connect("moodle")
    try:
        with conn.cursor() as cursor:
            cursor.execute("select count(*) from public.mdl_course")
            courses = cursor.fetchone()[0]
            cursor.execute("select nspname from pg_namespace where nspname like '%loading'")
            leftovers = cursor.fetchall()
    finally:
        conn.close()
    with duckdb.connect(str(site.source), read_only=True) as connection:
        assert courses == connection.execute("select count(*) from public.mdl_course").fetchone()[0]
    assert leftovers == []
