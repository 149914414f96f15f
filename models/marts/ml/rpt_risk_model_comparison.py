"""The models compared in grouped cross-validation, per course week, and the choice.

Thin wrapper around moodle_analytics.risk.scoring.model_comparison_table.
"""

from moodle_analytics.risk.scoring import model_comparison_table
from moodle_analytics.risk.settings import RiskSettings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = RiskSettings.from_mapping(dbt.config.get("risk_settings"))
    features = dbt.ref("int_risk_features").df()
    return model_comparison_table(features, settings)
