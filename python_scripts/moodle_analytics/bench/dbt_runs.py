"""dbt commands run as measured subprocesses, with dbt's own timing per node."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from moodle_analytics.bench.measure import run_measured

DBT = str(Path(sys.executable).parent / "dbt")


@dataclass
class DbtRun:
    """One measured dbt command."""

    command: str
    seconds: float
    peak_bytes: int
    returncode: int
    cpu_seconds: float = 0.0
    # dbt's elapsed time (without its start-up and parsing) and the sum of the
    # nodes' execution times per resource type (model, test, unit_test, seed).
    dbt_seconds: float | None = None
    seconds_by_type: dict[str, float] = field(default_factory=dict)
    nodes: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def summary(self) -> dict:
        return {
            "command": self.command,
            "seconds": round(self.seconds, 2),
            "peak_gb": round(self.peak_bytes / 1e9, 3),
            "cpu_seconds": round(self.cpu_seconds, 1),
            "returncode": self.returncode,
            "dbt_seconds": None if self.dbt_seconds is None else round(self.dbt_seconds, 2),
            "seconds_by_type": {
                key: round(value, 2) for key, value in self.seconds_by_type.items()
            },
            "failures": self.failures,
        }

    def slowest(self, count: int = 15) -> list[dict]:
        return sorted(self.nodes, key=lambda node: -node["seconds"])[:count]


@dataclass
class DbtProject:
    """Where dbt runs: the project, its profiles, and one run directory."""

    project_dir: Path
    profiles_dir: Path
    run_dir: Path
    env: Mapping[str, str]

    @property
    def target_path(self) -> Path:
        return self.run_dir / "target"

    def run(
        self,
        *args: str,
        name: str,
        extra_roots: Sequence[int] = (),
        target_path: Path | None = None,
    ) -> DbtRun:
        target = target_path or self.target_path
        results_file = target / "run_results.json"
        results_file.unlink(missing_ok=True)
        command = [
            DBT,
            *args,
            "--profiles-dir",
            str(self.profiles_dir),
            "--target-path",
            str(target),
            "--log-path",
            str(self.run_dir / "logs"),
        ]
        measured = run_measured(
            command,
            env=self.env,
            cwd=self.project_dir,
            log_file=self.run_dir / f"{name}.log",
            extra_roots=extra_roots,
        )
        run = DbtRun(
            " ".join(["dbt", *args]),
            measured.seconds,
            measured.peak_bytes,
            measured.returncode,
            measured.cpu_seconds,
        )
        if results_file.exists():
            read_run_results(run, json.loads(results_file.read_text()))
        return run


def read_run_results(run: DbtRun, results: dict) -> None:
    """dbt's timing per node (run_results.json) into the run."""
    run.dbt_seconds = results.get("elapsed_time")
    by_type: dict[str, float] = defaultdict(float)
    for result in results.get("results", []):
        unique_id = result["unique_id"]
        seconds = result.get("execution_time") or 0.0
        by_type[unique_id.split(".")[0]] += seconds
        run.nodes.append(
            {"node": unique_id, "seconds": round(seconds, 3), "status": result["status"]}
        )
        if result["status"] in ("error", "fail", "runtime error"):
            run.failures.append(unique_id)
    run.seconds_by_type = dict(by_type)
