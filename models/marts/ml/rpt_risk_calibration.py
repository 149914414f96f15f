"""How calibrated the probabilities are against the outcome a school loaded.

Thin wrapper around moodle_analytics.risk.evaluation.calibration_table.
"""

from moodle_analytics.risk.evaluation import (
    FEATURE_COLUMNS,
    OUTCOME_COLUMNS,
    SCORE_COLUMNS,
    calibration_table,
)


def model(dbt, session):
    dbt.config(materialized="table")
    outcomes = dbt.ref("int_learner_outcomes_matched").select(*OUTCOME_COLUMNS).df()
    scores = dbt.ref("fct_learner_risk_scores").select(*SCORE_COLUMNS).df()
    features = dbt.ref("int_risk_features").select(*FEATURE_COLUMNS).df()
    return calibration_table(outcomes, scores, features)
