{#- Engines without dbt Python models (dbt-postgres, dbt-spark) get the same
    table from the starter score computed in the database (the rule-based
    score where a course week is too small to rank), so the models
    downstream work everywhere. No model is trained here, so the starter
    score keeps its shipped calibration. DuckDB builds the Python model of
    the same name instead (see dbt_project.yml: exactly one is enabled). -#}
{{ config(contract={'enforced': target.type != 'spark'}) }}

with

rule_scores as (

    select * from {{ ref('int_risk_rule_scores') }}

),

final as (

    select
        ---------- ids
        cast(learner_week_id as {{ dbt.type_string() }}) as learner_week_id,
        cast(learner_course_id as {{ dbt.type_string() }}) as learner_course_id,
        cast(learner_id as {{ dbt.type_string() }}) as learner_id,
        cast(course_id as {{ dbt.type_bigint() }}) as course_id,
        ---------- strings
        cast(risk_band as {{ dbt.type_string() }}) as risk_band,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(reason_1 as {{ dbt.type_string() }}) as reason_1,
        cast(reason_2 as {{ dbt.type_string() }}) as reason_2,
        cast(reason_3 as {{ dbt.type_string() }}) as reason_3,
        cast(score_method as {{ dbt.type_string() }}) as score_method,
        cast(score_method as {{ dbt.type_string() }}) as model_name,
        ---------- numerics
        cast(course_week_number as integer) as course_week_number,
        cast(dropout_probability as {{ type_double() }}) as dropout_probability,
        cast(starter_score as {{ type_double() }}) as starter_score,
        cast(rule_based_score as {{ type_double() }}) as rule_based_score,
        cast(null as integer) as training_learner_courses,
        ---------- booleans
        is_latest_week,
        is_complete_week,
        ---------- timestamps
        cast(observed_at as {{ dbt.type_timestamp() }}) as observed_at,
        cast(null as {{ dbt.type_timestamp() }}) as model_trained_until_at

    from rule_scores

)

select * from final
