"""Generate a whole demo Moodle site into a DuckDB file (and optionally files)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from moodle_analytics.demo.config import WEEK, DemoConfig
from moodle_analytics.demo.simulate import Simulation
from moodle_analytics.demo.site import build_site
from moodle_analytics.moodle_sink import MoodleDuckDBWriter
from moodle_analytics.moodle_tables import MOODLE_TABLES


@dataclass
class GenerationResult:
    row_counts: dict[str, int]
    seconds: float
    ground_truth: pd.DataFrame
    anomalies: pd.DataFrame


def generate(
    config: DemoConfig,
    duckdb_path: str | Path,
    prefix: str = "mdl_",
    schema: str = "public",
    progress: bool = False,
) -> GenerationResult:
    started = time.perf_counter()
    # One generator per purpose, so that a change in one part of the site does
    # not reshuffle every other part for the same seed.
    site_rng, play_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(2)
    )
    site = build_site(config, site_rng)
    writer = MoodleDuckDBWriter(duckdb_path, prefix=prefix, schema=schema)
    simulation = Simulation(
        site, lambda frame: writer.append("logstore_standard_log", frame), play_rng
    )
    total_weeks = (config.as_of_epoch - site.site_created_at) // WEEK + 1
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=int(total_weeks), unit="week", desc="simulating")

        def report(weeks: int, rows: int) -> None:
            bar.update(weeks)
            bar.set_postfix(log_rows=f"{rows:,}")

    simulation.run(report if bar else None)
    if bar:
        bar.close()
    for table in MOODLE_TABLES:
        if table == "logstore_standard_log":
            continue
        rows = site.tables.get(table, [])
        if rows:
            writer.append(table, pd.DataFrame(rows))
    counts = writer.row_counts()
    writer.close()
    return GenerationResult(
        row_counts=counts,
        seconds=time.perf_counter() - started,
        ground_truth=ground_truth(simulation),
        anomalies=pd.DataFrame(simulation.log.anomaly_ids, columns=["log_id", "anomaly"]),
    )


def ground_truth(simulation: Simulation) -> pd.DataFrame:
    """Each learner-course's designed trajectory and outcome, kept out of Moodle's tables."""
    lc = simulation.lc
    courses = simulation.courses
    as_of = simulation.as_of
    rows = []
    for i in range(simulation.n_lc):
        course = courses[int(lc["course_id"][i])]
        user = int(lc["user_id"][i])
        finished = bool(course.end_at) and course.end_at <= as_of
        total = simulation.grades.get((course.course_grade_item_id, user))
        grade_share = None if total is None else total["finalgrade"] / course.course_grademax
        trajectory = str(lc["trajectory"][i])
        if trajectory == "never_start":
            outcome = "never_started"
        elif trajectory == "fade_out":
            outcome = "dropped_out"
        elif not finished:
            outcome = "in_progress"
        elif (
            grade_share is not None
            and grade_share * course.course_grademax >= course.course_gradepass
        ):
            outcome = "passed"
        else:
            outcome = "failed"
        rows.append(
            {
                "user_id": user,
                "course_id": course.id,
                "course_idnumber": course.idnumber,
                "term_index": course.term_index,
                "enrol_method": str(lc["enrol_method"][i]),
                "trajectory": trajectory,
                "designed_dropout": trajectory in ("fade_out", "never_start"),
                "last_active_week": int(lc["last_active_week"][i]),
                "first_week": int(lc["first_week"][i]),
                "latent_engagement": round(float(lc["engagement"][i]), 4),
                "latent_ability": round(float(lc["ability"][i]), 4),
                "outcome": outcome,
                "course_finished": finished,
                "is_deleted_user": user in simulation.deleted_users,
                "is_suspended_user": user in simulation.suspended_users,
                "is_enrolment_suspended": i in simulation.suspended_lc,
                "is_staff_in_course": i == simulation.promoted_lc,
            }
        )
    return pd.DataFrame(rows)
