{#- The starter score in SQL: each learner against the other learners of the
    same course week, no labelled history needed. The in-database twin of
    python_scripts/moodle_analytics/risk/starter.py (the tests hold the two
    equal within 1e-9); the module docstring there explains the method. -#}
{%- set min_cohort = var('risk_min_cohort_size') %}
{%- set calibration = var('risk_starter_calibration') %}
{%- set double = type_double() %}
{%- set cohort = 'course_id, course_week_number, week_one_starts_at' %}
{%- set window = 'over (partition by ' ~ cohort ~ ')' %}
{%- set z_limit = 3 %}
{#- indicator: riskier when lower or higher; its group; compared as log(1 + count) -#}
{%- set indicators = [
    ('events_so_far', 'lower', 'engagement', true),
    ('active_days_so_far', 'lower', 'engagement', true),
    ('active_week_share', 'lower', 'engagement', false),
    ('days_since_last_activity', 'higher', 'engagement', true),
    ('submissions_so_far', 'lower', 'coursework', true),
    ('common_quizzes_attempted_so_far', 'lower', 'coursework', true),
    ('work_not_on_time_share', 'higher', 'coursework', false),
    ('quiz_average_so_far', 'lower', 'performance', false),
] %}
{%- set medians = [
    ('days_since_last_activity', 'course_median_days_since_last_activity'),
    ('events_so_far', 'course_median_events_so_far'),
    ('active_week_share', 'course_median_active_week_share'),
    ('submissions_so_far', 'course_median_submissions'),
] %}

with

features as (

    select * from {{ ref('int_risk_features') }}

),

-- A week is active when events_so_far grew in it.
weekly as (

    select
        *,
        case
            when
                events_so_far > coalesce(
                    lag(events_so_far) over (partition by learner_course_id order by course_week_number), 0
                )
                then 1
            else 0
        end as is_active_week

    from features

),

derived as (

    select
        learner_week_id,
        course_id,
        course_week_number,
        week_one_starts_at,
        cast(events_so_far as {{ double }}) as events_so_far,
        cast(active_days_so_far as {{ double }}) as active_days_so_far,
        cast(days_since_last_activity as {{ double }}) as days_since_last_activity,
        cast(submissions_so_far as {{ double }}) as submissions_so_far,
        cast(common_quizzes_attempted_so_far as {{ double }}) as common_quizzes_attempted_so_far,
        cast(quiz_average_so_far as {{ double }}) as quiz_average_so_far,
        cast(
            sum(is_active_week) over (
                partition by learner_course_id
                order by course_week_number
                rows between unbounded preceding and current row
            ) as {{ double }}
        ) as active_weeks_so_far,
        cast(weeks_followed as {{ double }}) as weeks_followed,
        -- Late work counts half.
        deadlines_missing_share + 0.5 * coalesce(deadlines_late_share, 0) as work_not_on_time_share

    from weekly

),

shared as (

    select
        *,
        active_weeks_so_far / weeks_followed as active_week_share

    from derived

),

-- Counts are heavy-tailed: compared as log(1 + count).
compared as (

    select
        *,
        {%- for column, riskier_when, group_name, is_count in indicators %}
        {%- set value = 'ln(1 + ' ~ column ~ ')' if is_count else column %}
        {{ value }} as {{ column }}_value{% if not loop.last %},{% endif %}
        {%- endfor %}

    from shared

),

-- Standard deviations from the cohort's mean, positive when worse, clipped to
-- +-3 (one far-off learner cannot outweigh the rest); null with fewer than
-- risk_min_cohort_size values or all equal.
-- (sqlfluff misreads the indentation of this templated loop.)
-- noqa: disable=LT02
indicator_z as (

    select
        *,
        {%- for column, riskier_when, group_name, is_count in indicators %}
        {%- set value = column ~ '_value' %}
        {%- set sign = '-' if riskier_when == 'lower' else '' %}
        case
            when
                {{ value }} is not null
                and count({{ value }}) {{ window }} >= {{ min_cohort }}
                and max({{ value }}) {{ window }} > min({{ value }}) {{ window }}
                then greatest(
                    -{{ z_limit }},
                    least(
                        {{ z_limit }},
                        {{ sign }}({{ value }} - avg({{ value }}) {{ window }})
                        / stddev_pop({{ value }}) {{ window }}
                    )
                )
        end as {{ column }}_z{% if not loop.last %},{% endif %}
        {%- endfor %}

    from compared

),
-- noqa: enable=LT02

-- The mean of the group means, each over its known indicators.
group_means as (

    select
        *,
        {%- for group_name in ['engagement', 'coursework', 'performance'] %}
        {%- set members = [] %}
        {%- for column, riskier_when, member_group, is_count in indicators if member_group == group_name %}
        {%- do members.append(column ~ '_z') %}
        {%- endfor %}
        {{ mean_of_known(members) }} as {{ group_name }}_z{% if not loop.last %},{% endif %}
        {%- endfor %}

    from indicator_z

),

scored as (

    select
        *,
        {{ mean_of_known(['engagement_z', 'coursework_z', 'performance_z']) }} as starter_raw_score

    from group_means

),

{{ cohort_medians('shared', medians, min_cohort) }},

final as (

    select
        ---------- ids
        scored.learner_week_id,
        ---------- numerics
        cast(scored.active_weeks_so_far as integer) as active_weeks_so_far,
        cast(scored.active_week_share as {{ double }}) as active_week_share,
        cast(scored.work_not_on_time_share as {{ double }}) as work_not_on_time_share,
        {%- for column, riskier_when, group_name, is_count in indicators %}
        cast(scored.{{ column }}_z as {{ double }}) as {{ column }}_z,
        {%- endfor %}
        {%- for column, median_name in medians %}
        cast(cohort_medians.{{ median_name }} as {{ double }}) as {{ median_name }},
        {%- endfor %}
        cast(scored.starter_raw_score as {{ double }}) as starter_raw_score,
        cast(
            1 / (1 + exp(-({{ calibration['intercept'] }} + {{ calibration['slope'] }} * scored.starter_raw_score)))
            as {{ double }}
        ) as starter_score

    from scored
    left join cohort_medians using (course_id, course_week_number, week_one_starts_at)

)

select * from final
