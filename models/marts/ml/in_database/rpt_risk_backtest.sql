{#- The backtest on engines without dbt Python models: the scores
    fct_learner_risk_scores serves there (the starter score, the rule-based
    score in course weeks too small to rank) of learner-courses whose outcome
    is known, against that outcome, by score method, cohort and course week.
    Same name and columns as the Python model rpt_risk_backtest on DuckDB. -#}
{{ config(contract={'enforced': target.type != 'spark'}) }}

with

rule_metrics as (

    select * from {{ ref('int_risk_rule_backtest') }}

),

served_metrics as (

    select
        *,
        case when score_name = 'starter' then 'starter' else 'rule_based' end as score_method

    from rule_metrics
    where score_name in ('starter', 'rule_based_served') and course_week_number is not null

),

final as (

    select
        ---------- ids
        cast(
            {{ dbt.concat([
                'cohort_name',
                "'-'",
                dbt.safe_cast('course_week_number', dbt.type_string()),
                "'-'",
                'score_method',
            ]) }} as {{ dbt.type_string() }}
        ) as backtest_row_id,
        ---------- strings
        cast(cohort_name as {{ dbt.type_string() }}) as cohort_name,
        cast(score_method as {{ dbt.type_string() }}) as score_method,
        ---------- numerics
        cast(course_week_number as integer) as course_week_number,
        cast(learner_courses as integer) as learner_courses,
        cast(dropouts as integer) as dropouts,
        cast(roc_auc as {{ type_double() }}) as roc_auc,
        cast(pr_auc as {{ type_double() }}) as pr_auc,
        cast(f1_score as {{ type_double() }}) as f1_score,
        cast(top_decile_precision as {{ type_double() }}) as top_decile_precision,
        cast(brier_score as {{ type_double() }}) as brier_score,
        cast(dropout_rate as {{ type_double() }}) as dropout_rate,
        cast(mean_score as {{ type_double() }}) as mean_dropout_probability,
        ---------- strings
        cast(score_method as {{ dbt.type_string() }}) as model_names

    from served_metrics

)

select * from final
