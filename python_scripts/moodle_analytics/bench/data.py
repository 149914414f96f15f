"""The benchmark's Moodle sites: generated once per size, copied for each run.

<work>/<label>/moodle_source.duckdb is the generated site, kept between runs
(100 million rows took 406 s to generate here); generated.json beside
it records how it was made. Each run works on a copy from which the newest log
rows are held back, so that the incremental build has new rows to take in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

LOG_TABLE = "public.mdl_logstore_standard_log"
# Rows stamped after this are the generator's clock-error anomalies: they stay put.
PLAUSIBLE_EPOCH_LIMIT = 2_000_000_000
SOURCE_FILE = "moodle_source.duckdb"
RECORD_FILE = "generated.json"
# The default demo site's label: what `make run` builds.
DEMO_LABEL = "demo"


class BenchDataError(RuntimeError):
    pass


@dataclass
class GeneratedSite:
    label: str
    target_rows: int | None
    source: Path
    log_rows: int
    generation_seconds: float | None


def parse_size(text: str) -> int:
    """'1M' -> 1_000_000, '250k' -> 250_000, '1000' -> 1000."""
    cleaned = text.strip().lower().replace("_", "")
    factor = 1
    for suffix, value in (("k", 1_000), ("m", 1_000_000), ("g", 1_000_000_000)):
        if cleaned.endswith(suffix):
            cleaned, factor = cleaned[:-1], value
            break
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (e.g. 1M, 250k, 10000)") from None
    rows = int(number * factor)
    if rows < 1000:
        raise ValueError(f"size {text!r} is below 1000 log rows")
    return rows


def size_label(rows: int) -> str:
    for factor, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if rows >= factor and rows % factor == 0:
            return f"{rows // factor}{suffix}"
    return str(rows)


def count_log_rows(source: Path) -> int:
    with duckdb.connect(str(source), read_only=True) as connection:
        return connection.execute(f"select count(*) from {LOG_TABLE}").fetchone()[0]


def ensure_site(
    work_dir: Path, target_rows: int, extra_args: tuple[str, ...] = (), say=print
) -> GeneratedSite:
    """The generated site for this size: reused when present, else generated now."""
    generate_args = ("--target-log-rows", str(target_rows), *extra_args)
    return generated_site(work_dir, size_label(target_rows), target_rows, generate_args, say)


def ensure_demo_site(work_dir: Path, say=print) -> GeneratedSite:
    """The default demo site (`make demo-data`'s), generated once under work_dir/demo."""
    return generated_site(work_dir, DEMO_LABEL, None, (), say)


def generated_site(
    work_dir: Path, label: str, target_rows: int | None, generate_args: tuple[str, ...], say
) -> GeneratedSite:
    directory = work_dir / label
    source = directory / SOURCE_FILE
    record_file = directory / RECORD_FILE
    if source.exists() and record_file.exists():
        record = json.loads(record_file.read_text())
        # Sites recorded before generate_args named their size and extra arguments.
        recorded = record.get("generate_args") or [
            "--target-log-rows",
            str(record.get("target_rows")),
            *record.get("extra_args", []),
        ]
        if recorded == list(generate_args):
            say(f"[{label}] reusing {source} ({record['log_rows']:,} log rows)")
            return GeneratedSite(
                label, target_rows, source, record["log_rows"], record.get("generation_seconds")
            )
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / "moodle_source.partial.duckdb"
    partial.unlink(missing_ok=True)
    rows_text = f"about {target_rows:,}" if target_rows else "the default number of"
    say(f"[{label}] generating a demo site of {rows_text} log rows (once) ...")
    command = [
        str(Path(sys.executable).parent / "moodle-demo-data"),
        "--no-progress",
        "--duckdb",
        str(partial),
        "--ground-truth",
        str(directory / "demo_ground_truth.csv"),
        *generate_args,
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchDataError(f"moodle-demo-data failed:\n{result.stderr[-3000:]}")
    partial.replace(source)
    log_rows = count_log_rows(source)
    record = {
        "target_rows": target_rows,
        "generate_args": list(generate_args),
        "log_rows": log_rows,
        "generation_seconds": round(seconds, 1),
    }
    record_file.write_text(json.dumps(record, indent=2) + "\n")
    say(f"[{label}] generated {log_rows:,} log rows in {seconds:.0f} s")
    return GeneratedSite(label, target_rows, source, log_rows, seconds)


@dataclass
class HeldBack:
    """The newest log rows taken out of a run's copy of the site."""

    rows: int
    rows_kept: int
    from_epoch: int
    share: float
    days: float

    def as_dict(self) -> dict:
        return asdict(self)


def copy_site(site_source: Path, run_source: Path) -> None:
    run_source.parent.mkdir(parents=True, exist_ok=True)
    run_source.unlink(missing_ok=True)
    shutil.copyfile(site_source, run_source)


def hold_back_newest(source: Path, held_back_file: Path, share: float) -> HeldBack:
    """Move the newest `share` of the plausibly stamped log rows to held_back_file.

    They are the rows the site writes next: the incremental build takes them in
    after the full build has run on the rest.
    """
    if not 0 < share < 0.5:
        raise ValueError(f"the share of rows held back must be between 0 and 0.5, not {share}")
    held_back_file.unlink(missing_ok=True)
    plausible = f"timecreated < {PLAUSIBLE_EPOCH_LIMIT}"
    with duckdb.connect(str(source)) as connection:
        total, cutoff, newest = connection.execute(
            f"select count(*), quantile_disc(timecreated, {1 - share}), max(timecreated) "
            f"from {LOG_TABLE} where {plausible}"
        ).fetchone()
        condition = f"timecreated > {cutoff} and {plausible}"
        connection.execute(f"attach '{held_back_file}' as held_back")
        connection.execute(
            f"create table held_back.log_rows as select * from {LOG_TABLE} where {condition}"
        )
        rows = connection.execute("select count(*) from held_back.log_rows").fetchone()[0]
        connection.execute(f"delete from {LOG_TABLE} where {condition}")
        kept = connection.execute(f"select count(*) from {LOG_TABLE}").fetchone()[0]
        connection.execute("detach held_back")
        connection.execute("checkpoint")
    return HeldBack(rows, kept, int(cutoff), rows / max(total, 1), (newest - cutoff) / 86400)


def put_back(source: Path, held_back_file: Path) -> int:
    """Append the held-back rows to the log, as the site would write them."""
    with duckdb.connect(str(source)) as connection:
        connection.execute(f"attach '{held_back_file}' as held_back (read_only)")
        connection.execute(f"insert into {LOG_TABLE} select * from held_back.log_rows")
        rows = connection.execute("select count(*) from held_back.log_rows").fetchone()[0]
        connection.execute("detach held_back")
        connection.execute("checkpoint")
    return rows
