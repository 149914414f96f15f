"""The risk models for a Spark build, run on DuckDB.

dbt-spark runs no Python models in session mode (and a cluster may not let
it): Spark builds the features as Parquet, this stage reads them with DuckDB,
runs the same functions as the dbt Python models with the same settings, and
writes the three tables as Parquet files that Spark then registers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from moodle_analytics.risk.backtest import backtest_table
from moodle_analytics.risk.model_store import ModelStore
from moodle_analytics.risk.scoring import model_comparison_table, score_learner_weeks
from moodle_analytics.risk.settings import RiskSettings
from moodle_analytics.spark.parquet_tables import read_spark_table, write_parquet

PROJECT = "moodle_analytics"
RISK_TABLES = ("fct_learner_risk_scores", "rpt_risk_model_comparison", "rpt_risk_backtest")


@dataclass(frozen=True)
class SparkBuild:
    """Where a Spark build left its tables, read from its manifest."""

    manifest: dict
    warehouse: Path

    @classmethod
    def load(cls, target_dir: Path, warehouse: Path) -> SparkBuild:
        path = target_dir / "manifest.json"
        if not path.is_file():
            raise SystemExit(f"no {path}: run the Spark build first")
        return cls(json.loads(path.read_text()), warehouse)

    def location(self, model: str) -> Path:
        """A model's Parquet directory: Spark's <warehouse>/<schema>.db/<table>."""
        node = self.manifest["nodes"].get(f"model.{PROJECT}.{model}")
        if node is None:
            raise SystemExit(f"{model} is not enabled in the Spark build's manifest")
        return self.warehouse / f"{node['schema']}.db" / node["alias"]

    @property
    def risk_scores_node(self) -> dict:
        """fct_learner_risk_scores in the manifest (on Spark, the SQL stand-in):
        its config carries what the dbt Python model would get."""
        return self.manifest["nodes"][f"model.{PROJECT}.fct_learner_risk_scores"]

    def risk_settings(self) -> RiskSettings:
        """The settings the dbt Python model would get: the config its yml gives
        fct_learner_risk_scores (on Spark, the SQL stand-in of the same name),
        rendered with the build's variables."""
        return RiskSettings.from_mapping(self.risk_scores_node["config"].get("risk_settings"))

    def model_store(self) -> ModelStore:
        """The store of fitted models the dbt Python models would use."""
        return ModelStore.at(self.risk_scores_node["config"].get("risk_model_store"))

    def risk_schema(self) -> str:
        """Schema of the scores from DuckDB: beside the rule-based stand-ins'."""
        return f"{self.risk_scores_node['schema']}_models"


def score(build: SparkBuild, out_dir: Path) -> dict[str, int]:
    """The three risk tables as <out_dir>/<table>.parquet; their row counts."""
    settings = build.risk_settings()
    connection = duckdb.connect()
    try:
        features = read_spark_table(connection, build.location("int_risk_features"))
        courses = read_spark_table(connection, build.location("dim_courses"))
        store = build.model_store()
        scores = score_learner_weeks(features, settings, store=store).scores
        tables = {
            "fct_learner_risk_scores": scores,
            "rpt_risk_model_comparison": model_comparison_table(features, settings, store=store),
            "rpt_risk_backtest": backtest_table(scores, features, courses),
        }
        for name, frame in tables.items():
            write_parquet(connection, frame, out_dir / f"{name}.parquet")
    finally:
        connection.close()
    return {name: len(frame) for name, frame in tables.items()}
