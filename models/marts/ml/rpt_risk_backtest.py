"""The as-of risk scores of finished courses against their outcome, by course week.

Thin wrapper around moodle_analytics.risk.backtest.backtest_table; the plot of
AUC by week comes from `moodle-risk-report --plot`.
"""

from moodle_analytics.risk.backtest import backtest_table


def model(dbt, session):
    dbt.config(materialized="table")
    scores = dbt.ref("fct_learner_risk_scores").df()
    features = dbt.ref("int_risk_features").df()
    courses = dbt.ref("dim_courses").df()
    return backtest_table(scores, features, courses)
