"""fct_learner_feedback: standing against the cohort, and the message chosen.

The quiz average behind the performance standing is derived again from the
demo's mdl_quiz_attempts; percentiles, bands and messages are recomputed in
pandas from the week's events and the seed of templates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dbt_project import PROJECT_DIR
from test_actions_helpers import M, newest_log_epoch

MIN_COHORT = 5
LOW_BELOW, HIGH_FROM = 0.33, 0.67


@pytest.fixture(scope="module")
def feedback(built_demo) -> pd.DataFrame:
    return built_demo.frame("select * from analytics_actions.fct_learner_feedback")


def share_below(values: pd.Series) -> pd.Series:
    """For each value, the share of the other non-null values that are lower."""
    known = values.dropna()
    if len(known) < MIN_COHORT:
        return pd.Series(np.nan, index=values.index)
    ordered = np.sort(known.to_numpy())
    lower = np.searchsorted(ordered, known.to_numpy(), side="left")
    return pd.Series(lower / (len(known) - 1), index=known.index).reindex(values.index)


def band(percentile: float, empty: str) -> str:
    if pd.isna(percentile):
        return empty
    return "low" if percentile < LOW_BELOW else "high" if percentile >= HIGH_FROM else "middle"


def test_one_row_per_learner_week(built_demo, feedback):
    weeks = built_demo.query("select count(*) from analytics_marts.fct_learner_weeks")[0][0]
    assert len(feedback) == weeks > 1000
    assert feedback.learner_week_id.is_unique


def test_quiz_average_so_far_is_the_learners_finished_attempts(built_demo, feedback):
    """The average of the learner's quiz grades so far, each quiz graded as Moodle grades it
    (mdl_quiz.grademethod) from the attempts finished by the end of the week."""
    with built_demo.connect() as connection:
        moment = newest_log_epoch(connection)
        attempts = connection.execute(
            f"""
            select learner_course_of(a.userid, q.course) as learner_course_id,
                a.quiz, a.attempt, q.grademethod,
                make_timestamp(a.timefinish * 1000000) as finished_at,
                a.sumgrades / q.sumgrades as score
            from {M}quiz_attempts a join {M}quiz q on q.id = a.quiz
            where a.state = 'finished' and a.preview = 0 and q.sumgrades > 0
                and a.timefinish > 0 and a.timefinish <= {moment}
            """
        ).df()
    sample = feedback[feedback.course_week_number.isin([3, 8])]
    rows = sample.merge(attempts, on="learner_course_id")
    rows = rows[rows.finished_at < rows.week_ends_at].sort_values("attempt")
    by_quiz = rows.groupby(["learner_week_id", "quiz"])
    grades = pd.DataFrame(
        {
            "method": by_quiz.grademethod.first(),
            "highest": by_quiz.score.max(),
            "average": by_quiz.score.mean(),
            "first": by_quiz.score.first(),
            "last": by_quiz.score.last(),
        }
    )
    graded = grades.apply(
        lambda quiz: quiz[{1: "highest", 2: "average", 3: "first", 4: "last"}[quiz.method]],
        axis=1,
    )
    want = graded.groupby(level="learner_week_id").mean()
    got = sample.set_index("learner_week_id").quiz_average_score
    assert want.notna().sum() > 500
    pd.testing.assert_series_equal(
        got.sort_index(), want.reindex(got.index).sort_index(), check_names=False, atol=1e-9
    )


def test_percentiles_and_bands_rank_each_learner_in_the_week_cohort(feedback):
    cohort = feedback.groupby(["course_id", "course_week_number"])
    engagement = cohort.events.transform(share_below)
    performance = cohort.quiz_average_score.transform(share_below)
    np.testing.assert_allclose(feedback.engagement_percentile, engagement, atol=1e-9)
    np.testing.assert_allclose(feedback.performance_percentile, performance, atol=1e-9)
    want_engagement = [
        "inactive" if events == 0 else band(p, "uncompared")
        for events, p in zip(feedback.events, engagement, strict=True)
    ]
    want_performance = [
        "not_assessed" if pd.isna(score) else band(p, "uncompared")
        for score, p in zip(feedback.quiz_average_score, performance, strict=True)
    ]
    assert feedback.engagement_band.tolist() == want_engagement
    assert feedback.performance_band.tolist() == want_performance
    assert set(want_engagement) >= {"inactive", "low", "middle", "high"}


def test_the_message_is_the_most_specific_template_with_its_placeholders_filled(feedback):
    templates = pd.read_csv(PROJECT_DIR / "seeds" / "feedback_message_templates.csv")
    lookup = {
        (row.engagement_band, row.performance_band): row.feedback_message
        for row in templates.itertuples()
    }

    def percent(value) -> str:
        # Half away from zero, as SQL's round().
        return "" if pd.isna(value) else str(int(np.floor(100 * value + 0.5)))

    for row in feedback.itertuples():
        for key in (
            (row.engagement_band, row.performance_band),
            (row.engagement_band, "*"),
            ("*", row.performance_band),
            ("*", "*"),
        ):
            if key in lookup:
                template = lookup[key]
                break
        want = (
            template.replace("{course_week_number}", str(row.course_week_number))
            .replace("{events}", str(row.events))
            .replace("{engagement_percent}", percent(row.engagement_percentile))
            .replace("{performance_percent}", percent(row.performance_percentile))
            .replace("{quiz_average_percent}", percent(row.quiz_average_score))
        )
        assert row.feedback_message == want, row.learner_week_id
    assert not feedback.feedback_message.str.contains("{", regex=False).any()
