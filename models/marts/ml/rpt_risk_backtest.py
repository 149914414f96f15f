"""The as-of risk scores of finished courses against their outcome, by course week.

Thin wrapper around moodle_analytics.risk.backtest.backtest_table; the plot of
AUC by week comes from `moodle-risk-report --plot`.
"""

from moodle_analytics.risk.backtest import (
    BACKTEST_LABEL_COLUMNS,
    BACKTEST_SCORE_COLUMNS,
    backtest_table,
)


def model(dbt, session):
    dbt.config(materialized="table")
    # Only the columns it reads: the reasons and features are most of the bytes.
    scores = dbt.ref("fct_learner_risk_scores").select(*BACKTEST_SCORE_COLUMNS).df()
    features = dbt.ref("int_risk_features").select(*BACKTEST_LABEL_COLUMNS).df()
    courses = dbt.ref("dim_courses").df()
    return backtest_table(scores, features, courses)
