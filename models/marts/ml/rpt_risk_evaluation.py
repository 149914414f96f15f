"""The risk scores and the baselines against the outcome a school loaded, by course week.

Thin wrapper around moodle_analytics.risk.evaluation.evaluation_table; the
outcomes come from moodle-risk-evaluate (no rows until a file is loaded).
"""

from moodle_analytics.risk.evaluation import (
    FEATURE_COLUMNS,
    OUTCOME_COLUMNS,
    SCORE_COLUMNS,
    evaluation_table,
)
from moodle_analytics.risk.settings import RiskSettings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = RiskSettings.from_mapping(dbt.config.get("risk_settings"))
    samples = int(dbt.config.get("risk_evaluation_bootstrap_samples"))
    outcomes = dbt.ref("int_learner_outcomes_matched").select(*OUTCOME_COLUMNS).df()
    scores = dbt.ref("fct_learner_risk_scores").select(*SCORE_COLUMNS).df()
    features = dbt.ref("int_risk_features").select(*FEATURE_COLUMNS).df()
    return evaluation_table(outcomes, scores, features, settings, samples)
