{#- A programme's completion funnel: one row per programme and stage, from the
    learners who started it (took at least one course) through those who passed
    1, 2, ... of its courses to those who earned the certificate.
    Vars: programme_code (default null: every programme). -#}
{%- set programme_code = var('programme_code', none) -%}

with

programme_progress as (

    select * from {{ ref('fct_programme_progress') }}

),

programmes as (

    select
        programme_code,
        programme_name,
        max(programme_courses) as programme_courses

    from programme_progress
    {% if programme_code -%}
        where programme_code in {{ sql_list([programme_code]) }}
    {%- endif %}
    group by programme_code, programme_name

),

stage_numbers as (

    {{ integer_sequence(100) }}

),

-- Stage 0 started, 1..n passed at least that many courses, n + 1 certificate earned.
stages as (

    select
        programmes.programme_code,
        programmes.programme_name,
        programmes.programme_courses,
        stage_numbers.n - 1 as stage_number

    from programmes
    inner join stage_numbers
        on programmes.programme_courses + 2 >= stage_numbers.n

),

stage_learners as (

    select
        stages.programme_code,
        stages.programme_name,
        stages.programme_courses,
        stages.stage_number,
        count(programme_progress.learner_id) as learners

    from stages
    left join programme_progress
        on
            stages.programme_code = programme_progress.programme_code
            and (
                stages.stage_number = 0
                or (
                    stages.stage_number <= stages.programme_courses
                    and stages.stage_number <= programme_progress.courses_passed
                )
                or (
                    stages.stage_number > stages.programme_courses
                    and programme_progress.is_certificate_earned
                )
            )
    group by
        stages.programme_code,
        stages.programme_name,
        stages.programme_courses,
        stages.stage_number

),

final as (

    select
        ---------- ids
        programme_code,
        ---------- strings
        programme_name,
        case
            when stage_number = 0 then 'started'
            when stage_number > programme_courses then 'certificate earned'
            else {{ dbt.concat([
                "'passed '",
                dbt.safe_cast('stage_number', dbt.type_string()),
                "' of '",
                dbt.safe_cast('programme_courses', dbt.type_string()),
            ]) }}
        end as stage_name,
        ---------- numerics
        stage_number,
        learners,
        1.0 * learners / nullif(max(learners) over (partition by programme_code), 0)
            as share_of_started,
        1.0 * learners / nullif(
            lag(learners) over (partition by programme_code order by stage_number), 0
        ) as share_of_previous_stage

    from stage_learners

)

select * from final
order by programme_code, stage_number
