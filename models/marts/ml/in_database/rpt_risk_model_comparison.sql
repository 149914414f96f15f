{#- The model comparison on engines without dbt Python models: no model is
    trained there, so the only rows are the starter score's (chosen) and the
    rule-based score's metrics on the learner-courses whose outcome is known,
    and choice_reason says how to get the models. Same name and columns as
    the Python model on DuckDB. -#}
{{ config(contract={'enforced': target.type != 'spark'}) }}

with

rule_metrics as (

    select * from {{ ref('int_risk_rule_backtest') }}

),

features as (

    select * from {{ ref('int_risk_features') }}

),

labelled_weeks as (

    select
        learner_course_id,
        course_weeks,
        outcome_known_at,
        row_number() over (order by course_weeks) as length_position,
        count(*) over () as labelled_weeks

    from features
    where is_outcome_known and is_dropout is not null

),

history as (

    select
        count(distinct learner_course_id) as training_learner_courses,
        max(outcome_known_at) as trained_until_at,
        -- The early weeks run to the middle of the median course.
        ceiling(
            avg(
                case
                    when
                        length_position
                        in (floor((labelled_weeks + 1) / 2.0), floor((labelled_weeks + 2) / 2.0))
                        then course_weeks
                end
            ) / 2.0
        ) as early_weeks_until

    from labelled_weeks

),

overall as (

    select * from rule_metrics
    where cohort_name = 'all' and score_name in ('starter', 'rule_based')

),

early as (

    select
        overall.score_name,
        avg(overall.roc_auc) as mean_early_roc_auc

    from overall
    cross join history
    where overall.course_week_number between 1 and history.early_weeks_until
    group by overall.score_name

),

final as (

    select
        ---------- ids
        cast(
            {{ dbt.concat([
                'overall.score_name',
                "'-'",
                "coalesce(" ~ dbt.safe_cast('overall.course_week_number', dbt.type_string()) ~ ", 'all')",
            ]) }} as {{ dbt.type_string() }}
        ) as comparison_row_id,
        ---------- strings
        cast(overall.score_name as {{ dbt.type_string() }}) as model_name,
        ---------- numerics
        cast(overall.course_week_number as integer) as course_week_number,
        cast(overall.learner_courses as integer) as learner_weeks,
        cast(overall.dropouts as integer) as dropouts,
        cast(overall.roc_auc as {{ type_double() }}) as roc_auc,
        cast(overall.pr_auc as {{ type_double() }}) as pr_auc,
        cast(overall.f1_score as {{ type_double() }}) as f1_score,
        cast(overall.top_decile_precision as {{ type_double() }}) as top_decile_precision,
        cast(overall.brier_score as {{ type_double() }}) as brier_score,
        cast(early.mean_early_roc_auc as {{ type_double() }}) as mean_early_roc_auc,
        ---------- booleans
        overall.score_name = 'starter' as is_chosen,
        ---------- strings
        cast(
            {{ dbt.concat([
                "'" ~ target.type ~ " runs no dbt Python models, so no model is trained here: '",
                "'risk scores are the starter score computed in the database with its shipped '",
                "'calibration (score_method starter; the rule-based score in course weeks too '",
                "'small to rank). For the models, build with a DuckDB target '",
                "'(duckdb, or duckdb_pg to write the tables into PostgreSQL).'",
            ]) }} as {{ dbt.type_string() }}
        ) as choice_reason,
        ---------- numerics
        cast(history.training_learner_courses as integer) as training_learner_courses,
        cast(null as integer) as cv_folds,
        cast(0 as {{ type_double() }}) as fit_seconds,
        ---------- timestamps
        cast(history.trained_until_at as {{ dbt.type_timestamp() }}) as trained_until_at

    from overall
    cross join history
    left join early using (score_name)

)

select * from final
