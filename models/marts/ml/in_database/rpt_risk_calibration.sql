{#- The calibration table against the school's outcomes on engines without
    dbt Python models: the same table as the Python model of that name on
    DuckDB, in SQL. -#}
{%- set double = type_double() %}
{%- set text = dbt.type_string() %}
{%- set scores = [
    ('risk_score', 'dropout_probability'),
    ('starter_score', 'starter_score'),
    ('rule_based_score', 'rule_based_score'),
] %}

with

risk_scores as (

    select * from {{ ref('fct_learner_risk_scores') }}

),

outcomes as (

    select * from {{ ref('int_learner_outcomes_matched') }}

),

joined as (

    select
        outcomes.outcome_name,
        risk_scores.course_week_number,
        {%- for name, column in scores %}
        risk_scores.{{ column }},
        {%- endfor %}
        case when outcomes.is_positive then 1 else 0 end as dropped_out

    from risk_scores
    inner join outcomes using (learner_course_id)
    where outcomes.match_status = 'matched'

),

scored as (

    {%- for name, column in scores %}
    select
        '{{ name }}' as score_name,
        outcome_name,
        course_week_number,
        dropped_out,
        {{ column }} as probability
    from joined
    where {{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

binned as (

    select
        *,
        case when probability >= 1 then 9 else cast(floor(probability * 10) as integer) end as bin_number

    from scored

),

cells as (

    select
        score_name,
        course_week_number,
        bin_number,
        max(outcome_name) as outcome_name,
        count(*) as learner_courses,
        sum(dropped_out) as positives,
        avg(probability) as mean_predicted,
        avg(cast(dropped_out as {{ double }})) as observed_rate

    from binned
    group by score_name, course_week_number, bin_number

),

-- '0.3-0.4', written from whole numbers: the same text on every engine.
labelled as (

    select
        *,
        {{ dbt.concat([
            "'0.'",
            dbt.safe_cast('bin_number', text),
            "'-'",
            "case when bin_number = 9 then '1.0' else " ~ dbt.concat([
                "'0.'", dbt.safe_cast('bin_number + 1', text),
            ]) ~ " end",
        ]) }} as bin_text

    from cells

),

final as (

    select
        ---------- ids
        cast(
            {{ dbt.concat([
                'score_name', "'-'", dbt.safe_cast('course_week_number', text), "'-'", 'bin_text',
            ]) }} as {{ text }}
        ) as calibration_row_id,
        ---------- strings
        cast(outcome_name as {{ text }}) as outcome_name,
        cast(score_name as {{ text }}) as score_name,
        cast(bin_text as {{ text }}) as probability_bin,
        ---------- numerics
        cast(course_week_number as integer) as course_week_number,
        cast(bin_number / 10.0 as {{ double }}) as bin_lower,
        cast((bin_number + 1) / 10.0 as {{ double }}) as bin_upper,
        cast(learner_courses as integer) as learner_courses,
        cast(positives as integer) as positives,
        cast(mean_predicted as {{ double }}) as mean_predicted,
        cast(observed_rate as {{ double }}) as observed_rate

    from labelled

)

select * from final
