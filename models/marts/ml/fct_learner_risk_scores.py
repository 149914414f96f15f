"""Dropout risk per learner-course-week: calibrated, banded, segmented, explained.

Thin wrapper: the logic is moodle_analytics.risk.scoring (tested with pytest).
Runs on DuckDB; other engines build in_database/fct_learner_risk_scores.sql.
"""

from moodle_analytics.risk.model_store import ModelStore
from moodle_analytics.risk.scoring import score_learner_weeks
from moodle_analytics.risk.settings import RiskSettings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = RiskSettings.from_mapping(dbt.config.get("risk_settings"))
    store = ModelStore.at(dbt.config.get("risk_model_store"))
    features = dbt.ref("int_risk_features").df()
    scores = score_learner_weeks(features, settings, store=store).scores
    print(f"risk scores: {store.summary()}")
    return scores
