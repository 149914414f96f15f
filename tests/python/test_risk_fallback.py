"""A brand-new site (one term, nothing finished yet): the build does not
crash, every learner-week gets the starter score (the rule-based score only
in a course week too small to compare within) and the tables say why."""

from __future__ import annotations

from dbt_project import generate_demo


def test_a_site_without_labelled_history_gets_the_starter_score(tmp_path):
    site = generate_demo(
        tmp_path, "--terms", "1", "--courses-per-term", "2", "--learners-per-course", "15"
    )
    result = site.dbt("build")  # the whole project, tests included, must pass
    assert "risk scores: starter score, the shipped calibration" in result.stdout
    assert "no model yet: too little labelled history: 0 learner-courses" in result.stdout

    scores = site.frame("select * from analytics_ml.fct_learner_risk_scores")
    (learner_weeks,) = site.query("select count(*) from analytics_marts.fct_learner_weeks")[0]
    assert len(scores) == learner_weeks > 0
    assert set(scores.score_method) <= {"starter", "rule_based"}
    starter = scores[scores.score_method == "starter"]
    assert len(starter) > 0.5 * len(scores)
    # The rule-based score exactly where the starter score has no peers to compare with.
    assert ((scores.score_method == "rule_based") == scores.starter_score.isna()).all()
    assert (starter.model_name == "starter").all()
    assert (starter.dropout_probability == starter.starter_score).all()
    assert starter.training_learner_courses.isna().all()
    assert scores.dropout_probability.between(0, 1).all()
    assert scores[scores.risk_band != "low"].reason_1.notna().all()

    comparison = site.frame("select * from analytics_ml.rpt_risk_model_comparison")
    assert set(comparison.model_name) == {"starter", "rule_based"}
    assert comparison[comparison.is_chosen].model_name.unique().tolist() == ["starter"]
    reason = comparison.choice_reason.iloc[0]
    assert reason.startswith("No model yet: too little labelled history (0 learner-courses")
    assert "starter score" in reason

    backtest = site.frame("select * from analytics_ml.rpt_risk_backtest")
    assert backtest.empty  # nothing has finished, so there is nothing to replay yet
    evaluation = site.frame("select * from analytics_ml.rpt_risk_evaluation")
    assert evaluation.empty  # no outcomes loaded
