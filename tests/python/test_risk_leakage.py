"""The leakage guard: a learner-week's features and scores are what was known at its end.

The demo site is built a second time as of an earlier moment (the as_of
variable: the log rows after it are not known yet). Every week that had
ended by then must have exactly the same features, starter score and risk
score in both builds: the weeks, events and outcomes that came later change
nothing about it.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd

from dbt_project import Workspace
from moodle_analytics.risk.features import CONTEXT_COLUMNS, FEATURE_COLUMNS

# Wednesday of week 4 of the demo's running term (week 1 starts 2026-09-07).
EARLIER = "2026-09-30 12:00:00"

# Of fct_learner_risk_scores: is_latest_week changes as later weeks arrive.
SCORE_COMPARED = [
    "dropout_probability",
    "starter_score",
    "rule_based_score",
    "score_method",
    "model_name",
    "training_learner_courses",
    "risk_band",
    "segment",
    "reason_1",
    "reason_2",
    "reason_3",
    "model_trained_until_at",
]

COMPARED = [
    *FEATURE_COLUMNS,
    *(column for column in CONTEXT_COLUMNS if column != "observed_at"),
    "observed_at",
    "cohort_learners",
    "deadlines_on_time_share",
]


def test_week_w_features_and_scores_do_not_change_when_later_events_arrive(built_demo, tmp_path):
    earlier = Workspace(
        directory=tmp_path,
        source=built_demo.source,
        warehouse=tmp_path / "moodle_analytics.duckdb",
        ground_truth=built_demo.ground_truth,
    )
    # The fits of the full build, found again only for identical training rows.
    shutil.copytree(built_demo.directory / "risk_model_store", tmp_path / "risk_model_store")
    earlier.dbt(
        "build",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
        "-s",
        "+int_risk_starter_scores",
        "+fct_learner_risk_scores",
        "--vars",
        f"{{as_of: '{EARLIER}'}}",
    )
    query = "select * from analytics_intermediate.int_risk_features where week_ends_at <= '{}'"
    then = earlier.frame(query.format(EARLIER)).set_index("learner_week_id").sort_index()
    now = built_demo.frame(query.format(EARLIER)).set_index("learner_week_id").sort_index()

    assert len(then) > 5000
    assert then.index.equals(now.index)
    # Weeks from all four terms, the running one included.
    assert then.course_id.nunique() == now.course_id.nunique() > 20
    for column in COMPARED:
        before, after = then[column], now[column]
        if pd.api.types.is_float_dtype(before):
            np.testing.assert_allclose(before, after, rtol=0, atol=1e-12, err_msg=column)
        else:
            assert before.equals(after), column
    # The labels do change: courses that ended in between are known now.
    assert (then.is_outcome_known != now.is_outcome_known).any()

    for table, compared in (
        ("analytics_intermediate.int_risk_starter_scores", None),
        ("analytics_ml.fct_learner_risk_scores", SCORE_COMPARED),
    ):
        scores = (
            f"select scores.* from {table} as scores "
            "inner join analytics_intermediate.int_risk_features as features "
            f"using (learner_week_id) where features.week_ends_at <= '{EARLIER}'"
        )
        before = earlier.frame(scores).set_index("learner_week_id").sort_index()
        after = built_demo.frame(scores).set_index("learner_week_id").sort_index()
        assert before.index.equals(after.index) and len(before) > 5000
        for column in compared or before.columns:
            if pd.api.types.is_float_dtype(before[column]):
                np.testing.assert_allclose(
                    before[column], after[column], rtol=0, atol=1e-12, err_msg=column
                )
            else:
                assert before[column].equals(after[column]), column
