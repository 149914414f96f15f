"""The models compared in grouped cross-validation, per course week, and the choice.

Thin wrapper around moodle_analytics.risk.scoring.model_comparison_table. Built
after fct_learner_risk_scores: the comparison behind the model of the newest
scores is then in the model store, and the choice is checked against them.
"""

from moodle_analytics.risk.model_store import ModelStore
from moodle_analytics.risk.scoring import check_chosen_model, model_comparison_table
from moodle_analytics.risk.settings import RiskSettings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = RiskSettings.from_mapping(dbt.config.get("risk_settings"))
    store = ModelStore.at(dbt.config.get("risk_model_store"))
    features = dbt.ref("int_risk_features").df()
    newest = (
        dbt.ref("fct_learner_risk_scores")
        # The starter score kept by a comparison carries that fit's history too.
        .filter("model_trained_until_at is not null")
        .order("model_trained_until_at desc, model_name")
        .limit(1)
        .project("model_name, model_trained_until_at")
        .fetchone()
    )
    table = model_comparison_table(features, settings, store=store)
    check_chosen_model(table, newest)
    print(f"risk model comparison: {store.summary()}")
    return table
