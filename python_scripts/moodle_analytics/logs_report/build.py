"""After an import: `dbt build` on the tables written, then what it found, in a few lines.

moodle-logs-import --build runs the dbt project of this package (the
directory that holds dbt_project.yml, or --project-dir) with the Moodle
source set to the DuckDB file just written. The build is a full refresh:
the warehouse's incremental models may hold another site's rows (the demo's,
or an earlier import whose log ids overlap these). Then it reports the
learners and learner-weeks of each course, each course's status, and how
risk was scored: by a model trained on the courses whose outcome is known
(a past term downloaded with the running one), or by the starter score
when there is too little labelled history (one term), with dbt's message.
It also says what became of every log row (used, excluded and quarantined, by
reason and, for quarantine, by course) and names the events of the source the
event catalogue does not know, with their counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from moodle_analytics.event_catalogue import load_event_catalogue

PACKAGE_PROJECT = Path(__file__).resolve().parents[3]
RISK_SCORES = ("analytics_ml", "fct_learner_risk_scores")
RECONCILIATION = "rpt_log_reconciliation"
QUARANTINE = "fct_log_quarantine"
RISK_MESSAGE_MARK = "risk scores:"
# dbt output lines worth showing when not every line is: problems and the outcome.
BRIEF_MARKS = ("ERROR", "FAIL", "WARN", "Failure", "Warning", "Error", "Done.", RISK_MESSAGE_MARK)


@dataclass
class BuildResult:
    returncode: int
    warehouse: Path
    report: list[str] = field(default_factory=list)
    output: str = ""


def project_directory(given: Path | None = None) -> Path:
    """The dbt project: given, else this package's checkout, else the working directory."""
    for candidate in (given, PACKAGE_PROJECT, Path.cwd()):
        if candidate is not None and (candidate / "dbt_project.yml").is_file():
            return candidate.resolve()
    raise FileNotFoundError(
        "no dbt project (dbt_project.yml) found; pass --project-dir or run from the project"
    )


def warehouse_path(project: Path, given: Path | None = None) -> Path:
    """Where profiles.yml builds: given, else MOODLE_ANALYTICS_DUCKDB, else its default."""
    if given is not None:
        return given.resolve()
    path = Path(os.environ.get("MOODLE_ANALYTICS_DUCKDB", "data/moodle_analytics.duckdb"))
    return path if path.is_absolute() else (project / path).resolve()


def dbt_executable() -> str:
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.is_file() else "dbt"


def run_dbt_build(
    source: Path,
    *,
    project: Path | None = None,
    warehouse: Path | None = None,
    schema: str = "public",
    prefix: str = "mdl_",
    variables: Mapping[str, object] | None = None,
    extra_args: Sequence[str] = (),
    echo: bool = True,
    brief: bool = False,
) -> BuildResult:
    """`dbt build --full-refresh` with the Moodle source set to `source` (and the
    dbt variables given, plus the table schema and prefix when not Moodle's). echo
    prints dbt's output as it comes; brief, only its problems and outcome."""
    project = project_directory(project)
    warehouse = warehouse_path(project, warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        MOODLE_SOURCE_DUCKDB=str(Path(source).resolve()),
        MOODLE_ANALYTICS_DUCKDB=str(warehouse),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    env.setdefault("DBT_PROFILES_DIR", str(project))
    command = [dbt_executable(), "build", "--full-refresh"]
    variables = dict(variables or {})
    if (schema, prefix) != ("public", "mdl_"):
        variables.update(moodle_schema=schema, moodle_table_prefix=prefix)
    if variables:
        command += ["--vars", json.dumps(variables)]
    command += list(extra_args)
    if echo:
        print("moodle-logs-import:", " ".join(command), flush=True)
    process = subprocess.Popen(
        command,
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if echo and (not brief or any(mark in line for mark in BRIEF_MARKS)):
            print(line, end="", flush=True)
    returncode = process.wait()
    output = "".join(lines)
    result = BuildResult(returncode, warehouse, output=output)
    if returncode == 0:
        result.report = build_report(warehouse, output)
        result.report += unknown_events_report(Path(source), schema, prefix)
    return result


def build_report(warehouse: Path, dbt_output: str = "") -> list[str]:
    """Per course: status, learners, learner-weeks; then how risk was scored."""
    lines = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        courses = connection.execute(
            """
            select
                courses.course_id,
                courses.course_name,
                courses.course_status,
                count(distinct weeks.learner_course_id),
                count(weeks.learner_week_id),
                sum(weeks.events),
                courses.dropout_rate
            from analytics_marts.dim_courses as courses
            left join analytics_marts.fct_learner_weeks as weeks
                on courses.course_id = weeks.course_id
            group by all
            order by courses.course_id
            """
        ).fetchall()
        for course, name, status, learners, weeks, events, dropout_rate in courses:
            dropout = "" if dropout_rate is None else f", dropout rate {dropout_rate:.0%}"
            lines.append(
                f"course {course} ({name}): {status}, {learners} learners, "
                f"{weeks} learner-weeks, {int(events or 0):,} events{dropout}"
            )
        lines += rows_report(connection)
        lines += risk_report(connection)
    messages = [
        line.split(RISK_MESSAGE_MARK, 1)[1].strip()
        for line in dbt_output.splitlines()
        if RISK_MESSAGE_MARK in line
    ]
    lines += [f"  {message}" for message in dict.fromkeys(messages)]
    return lines


def _find_table(connection: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """schema.table of a model, wherever the project's folders put it."""
    found = connection.execute(
        "select table_schema from information_schema.tables where table_name = ? order by 1",
        [table],
    ).fetchone()
    return f'"{found[0]}"."{table}"' if found else None


def rows_report(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """What became of the log's rows: used, excluded, quarantined, by reason; and
    each course's quarantined rows by reason, so that none goes unmentioned."""
    lines = []
    if reconciliation := _find_table(connection, RECONCILIATION):
        rows = connection.execute(
            f"select disposition, reason, log_rows from {reconciliation} "
            "order by disposition desc, log_rows desc"
        ).fetchall()
        parts = [f"{disposition} {reason} {count:,}" for disposition, reason, count in rows]
        lines.append("log rows: " + "; ".join(parts))
    if quarantine := _find_table(connection, QUARANTINE):
        rows = connection.execute(
            f"select course_id, reason, sum(quarantined_rows) from {quarantine} "
            "group by all order by 1, 3 desc"
        ).fetchall()
        for course, reason, count in rows:
            lines.append(f"  course {course}: {int(count):,} rows quarantined ({reason})")
    return lines


def unknown_events_report(source: Path, schema: str = "public", prefix: str = "mdl_") -> list[str]:
    """The source log's events the event catalogue does not know, with their counts."""
    known = set(load_event_catalogue())
    with duckdb.connect(str(source), read_only=True) as connection:
        counts = connection.execute(
            f'select eventname, count(*) from "{schema}"."{prefix}logstore_standard_log" '
            "group by 1 order by 2 desc, 1"
        ).fetchall()
    unknown = [(name, count) for name, count in counts if name not in known]
    if not unknown:
        return ["events the catalogue does not know: none"]
    total = sum(count for _, count in unknown)
    return [
        f"events the catalogue does not know: {total:,} rows of {len(unknown)} name(s), "
        "used by their own crud and education level",
        *(f"  unknown: {name} ({count:,})" for name, count in unknown),
    ]


def risk_report(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """How the latest week of each learner-course was scored."""
    schema, table = RISK_SCORES
    exists = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    if not exists:
        return ["risk scores: none (this project has no risk score model)"]
    rows = connection.execute(
        f"""
        select score_method, model_name, count(*), max(training_learner_courses)
        from {schema}.{table}
        where is_latest_week
        group by all
        order by 3 desc
        """
    ).fetchall()
    if not rows:
        return ["risk scores: no learner-weeks to score"]
    parts = []
    for method, model, count, trained_on in rows:
        if method == "model":
            parts.append(f"{count} by {model} trained on {trained_on} past learner-courses")
        elif method == "starter":
            calibrated = f" calibrated on {trained_on} past learner-courses" if trained_on else ""
            parts.append(f"{count} by the starter score{calibrated}")
        else:
            parts.append(f"{count} by the rule-based score")
    return ["risk scores of the latest week of each learner-course: " + "; ".join(parts)]
