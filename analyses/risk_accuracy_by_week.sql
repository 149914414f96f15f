{#- How accurate the dropout risk scores were, by course week: one row per score
    method and course week of the backtest (learner-courses whose outcome is known,
    each scored as of that week without seeing its future).
    Vars: cohort_name (default 'all'; or a start month such as '2026-03'). -#}
{%- set cohort_name = var('cohort_name', 'all') -%}

with

backtest as (

    select * from {{ ref('rpt_risk_backtest') }}

),

final as (

    select
        ---------- strings
        cohort_name,
        score_method,
        model_names,
        ---------- numerics
        course_week_number,
        learner_courses,
        dropouts,
        dropout_rate,
        mean_dropout_probability,
        roc_auc,
        pr_auc,
        f1_score,
        top_decile_precision,
        brier_score

    from backtest
    where cohort_name in {{ sql_list([cohort_name]) }}

)

select * from final
order by score_method, course_week_number
