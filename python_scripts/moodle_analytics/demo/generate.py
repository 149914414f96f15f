"""Generate a whole demo Moodle site into a DuckDB file (and optionally files).

The log goes to DuckDB in chunks on a second thread while the simulation
runs; activity tables are spooled to Parquet files beside the database and
loaded at the end; the rest (people, courses, settings) is small and written
last. Memory therefore does not grow with the number of log rows.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from moodle_analytics.demo.config import WEEK, DemoConfig
from moodle_analytics.demo.simulate import Simulation
from moodle_analytics.demo.site import build_site
from moodle_analytics.demo.tables import BackgroundWriter, ParquetSpool
from moodle_analytics.demo.truth import ground_truth
from moodle_analytics.demo.world import World
from moodle_analytics.moodle_db.duckdb_files import replaced_atomically
from moodle_analytics.moodle_db.tables import MOODLE_TABLES
from moodle_analytics.moodle_sink import MoodleDuckDBWriter


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
    duckdb_path = Path(duckdb_path)
    writer = MoodleDuckDBWriter(duckdb_path, prefix=prefix, schema=schema)
    spool_dir = Path(tempfile.mkdtemp(prefix=".moodle-demo-spool-", dir=duckdb_path.parent))
    background = None
    try:
        site = build_site(config, site_rng)
        # One core simulates, the other inserts the log; more DuckDB threads
        # would only compete with the simulation.
        writer.connection.execute("SET threads = 1")
        # Appends need little; a low limit keeps DuckDB from caching written blocks.
        writer.connection.execute("SET memory_limit = '128MB'")
        background = BackgroundWriter(writer)
        spool = ParquetSpool(spool_dir)
        simulation = Simulation(
            World(
                site,
                lambda frame: background.append("logstore_standard_log", frame),
                spool.write,
                play_rng,
            )
        )
        run_simulation(simulation, site.site_created_at, config, progress)
        background.close()
        background = None
        writer.connection.execute("RESET threads")
        writer.connection.execute("SET memory_limit = '512MB'")
        spool.load_into(writer)
        for table in MOODLE_TABLES:
            if table in site.frames:
                writer.append(table, site.frames[table])
            elif site.tables.get(table):
                writer.append(table, pd.DataFrame(site.tables[table]))
        counts = writer.row_counts()
    finally:
        if background is not None:
            background.abandon()
        writer.close()
        shutil.rmtree(spool_dir, ignore_errors=True)
    return GenerationResult(
        row_counts=counts,
        seconds=time.perf_counter() - started,
        ground_truth=ground_truth(simulation),
        anomalies=pd.DataFrame(simulation.world.log.anomaly_ids, columns=["log_id", "anomaly"]),
    )


def run_simulation(simulation: Simulation, origin: int, config: DemoConfig, progress: bool) -> None:
    if not progress:
        simulation.run()
        return
    from tqdm import tqdm

    total_weeks = (config.as_of_epoch - origin) // WEEK + 1
    with tqdm(total=int(total_weeks), unit="week", desc="simulating") as bar:

        def report(weeks: int, rows: int) -> None:
            bar.update(weeks)
            bar.set_postfix(log_rows=f"{rows:,}", refresh=False)

        simulation.run(report)


def write_site(
    config: DemoConfig,
    duckdb_path: Path,
    ground_truth_path: Path,
    prefix: str = "mdl_",
    schema: str = "public",
    parquet_dir: Path | None = None,
    csv_dir: Path | None = None,
    progress: bool = False,
) -> GenerationResult:
    """The site into a new file that replaces `duckdb_path` when whole; then its ground
    truth and, when asked for, copies of every table as Parquet or CSV files."""
    with replaced_atomically(duckdb_path) as partial:
        result = generate(config, partial, prefix=prefix, schema=schema, progress=progress)
    write_truth(result, ground_truth_path)
    export_tables(duckdb_path, prefix, schema, parquet_dir, csv_dir)
    return result


def write_truth(result: GenerationResult, path: Path) -> None:
    """The ground truth CSV, and the injected anomalies beside it (<stem>_anomalies.csv)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result.ground_truth.to_csv(path, index=False)
    result.anomalies.to_csv(path.with_name(path.stem + "_anomalies.csv"), index=False)


def export_tables(
    duckdb_path: Path, prefix: str, schema: str, parquet_dir: Path | None, csv_dir: Path | None
) -> None:
    """Copies of every Moodle table as Parquet and/or CSV files, when asked for."""
    if not (parquet_dir or csv_dir):
        return
    writer = MoodleDuckDBWriter.reopen(duckdb_path, prefix=prefix, schema=schema)
    try:
        if parquet_dir:
            writer.export(parquet_dir, "parquet")
        if csv_dir:
            writer.export(csv_dir, "csv")
    finally:
        writer.close()
