"""A brand-new site (one term, nothing finished yet): the build does not
crash, every learner-week gets the documented rule-based score and the
tables say why."""

from __future__ import annotations

from dbt_project import generate_demo


def test_a_site_without_labelled_history_gets_rule_based_scores(tmp_path):
    site = generate_demo(
        tmp_path, "--terms", "1", "--courses-per-term", "2", "--learners-per-course", "15"
    )
    result = site.dbt("build")  # the whole project, tests included, must pass
    assert "risk scores: rule-based score for" in result.stdout
    assert "too little labelled history: 0 learner-courses with a known outcome" in result.stdout

    scores = site.frame("select * from analytics_ml.fct_learner_risk_scores")
    (learner_weeks,) = site.query("select count(*) from analytics_marts.fct_learner_weeks")[0]
    assert len(scores) == learner_weeks > 0
    assert (scores.score_method == "rule_based").all()
    assert (scores.model_name == "rule_based").all()
    assert (scores.dropout_probability == scores.rule_based_score).all()
    assert scores.dropout_probability.between(0, 1).all()
    assert scores[scores.risk_band != "low"].reason_1.notna().all()

    comparison = site.frame("select * from analytics_ml.rpt_risk_model_comparison")
    assert comparison.model_name.unique().tolist() == ["rule_based"]
    assert comparison.is_chosen.all()
    reason = comparison.choice_reason.iloc[0]
    assert reason.startswith("No model yet: too little labelled history (0 learner-courses")
    assert "rule-based score" in reason

    backtest = site.frame("select * from analytics_ml.rpt_risk_backtest")
    assert backtest.empty  # nothing has finished, so there is nothing to replay yet
