"""What a PostgreSQL-only user gets: dbt-postgres builds fct_learner_risk_scores,
rpt_risk_backtest and rpt_risk_model_comparison in the database from the
starter score (the rule-based score in course weeks too small to compare
within), the Python models being off there, with the same numbers as the same
SQL on DuckDB, which the DuckDB tests hold equal to the Python starter score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbt_project import Workspace

pytestmark = pytest.mark.postgres

SHARES = ["dropout_probability", "starter_score", "rule_based_score"]
TEXTS = ["score_method", "risk_band", "segment", "reason_1", "reason_2", "reason_3"]


def test_dbt_postgres_serves_the_starter_scores_duckdb_computes(pg_moodle, tmp_path):
    on_postgres = Workspace(
        directory=tmp_path / "postgres",
        source=pg_moodle.source.duckdb,
        warehouse=tmp_path / "unused.duckdb",
        ground_truth=pg_moodle.source.ground_truth,
        extra_env={
            **pg_moodle.server.env(libpq=False),
            "MOODLE_PG_DBNAME": pg_moodle.database,
            "DBT_TARGET": "postgres",
        },
    )
    on_postgres.dbt("seed")
    # run, not build: the contract of the SQL model is enforced either way.
    on_postgres.dbt(
        "run", "-s", "+fct_learner_risk_scores", "+rpt_risk_backtest", "+rpt_risk_model_comparison"
    )

    def read(table: str) -> pd.DataFrame:
        with pg_moodle.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"select * from analytics_ml.{table}")
            names = [column.name for column in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    # Sorted here: PostgreSQL's collation may order text differently.
    served = read("fct_learner_risk_scores").sort_values("learner_week_id", ignore_index=True)

    on_duckdb = Workspace(
        directory=tmp_path / "duckdb",
        source=pg_moodle.source.duckdb,
        warehouse=tmp_path / "moodle_analytics.duckdb",
        ground_truth=pg_moodle.source.ground_truth,
    )
    on_duckdb.dbt("seed")
    on_duckdb.dbt("run", "-s", "+int_risk_rule_backtest")
    computed = on_duckdb.frame("select * from analytics_intermediate.int_risk_rule_scores")
    computed = computed.sort_values("learner_week_id", ignore_index=True)

    assert len(served) == len(computed) > 1000
    assert set(served.score_method) <= {"starter", "rule_based"}
    assert (served.score_method == "starter").mean() > 0.95
    assert (served.model_name == served.score_method).all()
    assert served.learner_week_id.tolist() == computed.learner_week_id.tolist()
    for column in SHARES:
        np.testing.assert_allclose(
            served[column].astype(float), computed[column].astype(float), atol=1e-9, err_msg=column
        )
    for column in TEXTS:
        different = served[column].fillna("") != computed[column].fillna("")
        assert not different.any(), (column, served[different].head(3), computed[different].head(3))

    backtest = read("rpt_risk_backtest")
    rule_metrics = on_duckdb.frame(
        "select *, case when score_name = 'starter' then 'starter' else 'rule_based' end "
        "as score_method from analytics_intermediate.int_risk_rule_backtest "
        "where course_week_number is not null and score_name in ('starter', 'rule_based_served')"
    )
    both = backtest.merge(
        rule_metrics,
        on=["score_method", "cohort_name", "course_week_number"],
        suffixes=("", "_d"),
    )
    assert len(both) == len(backtest) == len(rule_metrics) > 10
    assert "starter" in set(backtest.score_method)
    for column in ("roc_auc", "pr_auc", "f1_score", "top_decile_precision", "brier_score"):
        np.testing.assert_allclose(
            both[column].astype(float), both[f"{column}_d"].astype(float), atol=1e-9, err_msg=column
        )
    comparison = read("rpt_risk_model_comparison")
    assert set(comparison.model_name) == {"starter", "rule_based"}
    assert comparison[comparison.is_chosen].model_name.unique().tolist() == ["starter"]
    assert comparison.choice_reason.iloc[0].startswith("postgres runs no dbt Python models")
