"""The leakage guard: a learner-week's features are what was known at its end.

The demo site is built a second time as of an earlier moment (the as_of
variable: the log rows after it are not known yet). Every week that had
ended by then must have exactly the same features in both builds: the weeks
and events that came later change nothing about it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dbt_project import Workspace
from moodle_analytics.risk.features import CONTEXT_COLUMNS, FEATURE_COLUMNS

# Wednesday of week 4 of the demo's running term (week 1 starts 2026-09-07).
EARLIER = "2026-09-30 12:00:00"

COMPARED = [
    *FEATURE_COLUMNS,
    *(column for column in CONTEXT_COLUMNS if column != "observed_at"),
    "observed_at",
    "cohort_learners",
    "deadlines_on_time_share",
]


def test_week_w_features_do_not_change_when_later_events_arrive(built_demo, tmp_path):
    earlier = Workspace(
        directory=tmp_path,
        source=built_demo.source,
        warehouse=tmp_path / "moodle_analytics.duckdb",
        ground_truth=built_demo.ground_truth,
    )
    earlier.dbt("seed")
    earlier.dbt("run", "-s", "+int_risk_features", "--vars", f"{{as_of: '{EARLIER}'}}")
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
