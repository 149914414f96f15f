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
from moodle_analytics.risk.evaluation import EVALUATION_COLUMNS, evaluation_table
from moodle_analytics.risk.settings import RiskSettings

pytestmark = pytest.mark.postgres

SHARES = ["dropout_probability", "starter_score", "rule_based_score"]
TEXTS = ["score_method", "risk_band", "segment", "reason_1", "reason_2", "reason_3"]


def test_dbt_postgres_serves_the_starter_scores_duckdb_computes(
    pg_moodle, pg_demo_reference, tmp_path
):
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
    # Outcomes as moodle-risk-evaluate loads them (it writes DuckDB warehouses;
    # on PostgreSQL a school loads the same table itself).
    load_outcomes(pg_moodle)
    # run, not build: the contract of the SQL model is enforced either way.
    on_postgres.dbt(
        "run",
        "-s",
        "+fct_learner_risk_scores",
        "+rpt_risk_backtest",
        "+rpt_risk_model_comparison",
        "+rpt_risk_evaluation",
        "+rpt_risk_calibration",
    )

    def read(table: str, schema: str = "analytics_ml") -> pd.DataFrame:
        with pg_moodle.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"select * from {schema}.{table}")
            names = [column.name for column in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)

    # Sorted here: PostgreSQL's collation may order text differently.
    served = read("fct_learner_risk_scores").sort_values("learner_week_id", ignore_index=True)

    # The same site built on DuckDB (the quick risk models change no SQL score).
    pg_demo_reference.require()
    on_duckdb = pg_demo_reference.workspace
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
    check_evaluation(read)

    comparison = read("rpt_risk_model_comparison")
    assert set(comparison.model_name) == {"starter", "rule_based"}
    assert comparison[comparison.is_chosen].model_name.unique().tolist() == ["starter"]
    assert comparison.choice_reason.iloc[0].startswith("postgres runs no dbt Python models")


OUTCOMES_TABLE = """
create schema if not exists analytics_outcomes;
drop table if exists analytics_outcomes.learner_outcomes;
create table analytics_outcomes.learner_outcomes as
select
    row_number() over (order by ue.userid, e.courseid)::integer + 1 as outcome_row_number,
    ue.userid::text as learner_key,
    'user_id'::text as learner_key_type,
    e.courseid::text as course_key,
    'course_id'::text as course_key_type,
    null::text as outcome_value,
    null::double precision as grade,
    null::double precision as pass_mark,
    (ue.userid % 3 = 0 or ue.userid % 7 = 0) as is_positive,
    null::text as outcome_problem,
    'made up: user id divisible by 3 or 7'::text as outcome_name,
    'outcomes.csv'::text as source_file,
    now()::timestamp as loaded_at
from public.mdl_user_enrolments as ue
inner join public.mdl_enrol as e on ue.enrolid = e.id
group by ue.userid, e.courseid
"""


def load_outcomes(pg_moodle) -> None:
    with pg_moodle.connect() as connection, connection.cursor() as cursor:
        cursor.execute(OUTCOMES_TABLE)
        connection.commit()


def check_evaluation(read) -> None:
    """The SQL evaluation equals the Python one on the same scores (no bootstrap)."""
    evaluation = read("rpt_risk_evaluation")
    assert list(evaluation.columns) == list(EVALUATION_COLUMNS)
    assert len(evaluation) and evaluation.roc_auc_low.isna().all()
    served = evaluation[evaluation.score_name == "risk_score"]
    assert served.score_methods.notna().all()
    python = evaluation_table(
        read("int_learner_outcomes_matched", "analytics_intermediate"),
        read("fct_learner_risk_scores"),
        read("int_risk_features", "analytics_intermediate"),
        RiskSettings(),
        samples=0,
    )
    both = evaluation.merge(python, on="evaluation_row_id", suffixes=("", "_python"))
    # Scores every learner has (the starter score may be unknown in small weeks).
    both = both[both.learner_courses == both.learner_courses_python]
    assert len(both) >= 0.8 * len(evaluation)
    for column in (
        "roc_auc",
        "pr_auc",
        "brier_score",
        "high_band_recall",
        "high_or_medium_recall",
        "high_or_medium_precision",
        "roc_auc_gain",
    ):
        np.testing.assert_allclose(
            both[column].astype(float),
            both[f"{column}_python"].astype(float),
            atol=1e-9,
            err_msg=column,
        )
    # Two baselines may tie: the engines' sums differ in their last bits, so a tie may be
    # broken either way; the baseline named must then have the same AUC.
    auc = {(row.score_name, row.course_week_number): row.roc_auc for row in evaluation.itertuples()}
    named_differently = both[
        both.best_baseline_name.fillna("") != both.best_baseline_name_python.fillna("")
    ]
    for row in named_differently.itertuples():
        week = row.course_week_number
        assert auc[(row.best_baseline_name, week)] == pytest.approx(
            auc[(row.best_baseline_name_python, week)], abs=1e-9
        )
    calibration = read("rpt_risk_calibration")
    per_week = calibration[calibration.score_name == "risk_score"].groupby("course_week_number")
    counted = served.set_index("course_week_number").learner_courses
    assert (
        per_week.learner_courses.sum() == counted.loc[per_week.learner_courses.sum().index]
    ).all()
    assert calibration.probability_bin.str.fullmatch(r"0\.\d-(0\.\d|1\.0)").all()
