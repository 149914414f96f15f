{%- set cutoffs = var('feedback_band_cutoffs') -%}
{%- set min_cohort = [var('feedback_min_cohort_size') | int, 2] | max -%}
{%- if not (0 < cutoffs.low_below <= cutoffs.high_from < 1) -%}
    {{ exceptions.raise_compiler_error(
        "feedback_band_cutoffs: need 0 < low_below <= high_from < 1, got " ~ cutoffs
    ) }}
{%- endif -%}
{%- set cohort = 'partition by course_id, course_week_number' -%}

with

learner_weeks as (

    select * from {{ ref('fct_learner_weeks') }}

),

templates as (

    select * from {{ ref('feedback_message_templates') }}

),

-- The cohort is every learner followed in the same course week. A
-- percentile is the share of the others with a lower value (ties share
-- the lower rank), so the lowest is 0 and the highest 1.
ranked as (

    select
        learner_week_id,
        learner_course_id,
        learner_id,
        course_id,
        course_week_number,
        events,
        minutes_on_task,
        cumulative_quiz_average_score,
        is_complete_week,
        week_starts_at,
        week_ends_at,
        count(*) over ({{ cohort }}) as cohort_learners,
        count(cumulative_quiz_average_score) over ({{ cohort }}) as cohort_learners_assessed,
        rank() over ({{ cohort }} order by events) as engagement_rank,
        rank() over ({{ cohort }} order by cumulative_quiz_average_score asc nulls last) as performance_rank

    from learner_weeks

),

percentiles as (

    select
        *,
        case
            when cohort_learners >= {{ min_cohort }}
                then 1.0 * (engagement_rank - 1) / (cohort_learners - 1)
        end as engagement_percentile,
        case
            when cumulative_quiz_average_score is not null and cohort_learners_assessed >= {{ min_cohort }}
                then 1.0 * (performance_rank - 1) / (cohort_learners_assessed - 1)
        end as performance_percentile

    from ranked

),

banded as (

    select
        *,
        case
            when events = 0 then 'inactive'
            when engagement_percentile is null then 'uncompared'
            when engagement_percentile < {{ cutoffs.low_below }} then 'low'
            when engagement_percentile >= {{ cutoffs.high_from }} then 'high'
            else 'middle'
        end as engagement_band,
        case
            when cumulative_quiz_average_score is null then 'not_assessed'
            when performance_percentile is null then 'uncompared'
            when performance_percentile < {{ cutoffs.low_below }} then 'low'
            when performance_percentile >= {{ cutoffs.high_from }} then 'high'
            else 'middle'
        end as performance_band

    from percentiles

),

-- The most specific template wins: both bands, then engagement, then
-- performance, then the '*,*' default.
matched_templates as (

    select
        banded.learner_week_id,
        templates.feedback_message,
        row_number() over (
            partition by banded.learner_week_id
            order by
                case when templates.engagement_band = '*' then 1 else 0 end,
                case when templates.performance_band = '*' then 1 else 0 end
        ) as specificity

    from banded
    inner join templates
        on
            (banded.engagement_band = templates.engagement_band or templates.engagement_band = '*')
            and (banded.performance_band = templates.performance_band or templates.performance_band = '*')

),

{%- set as_percent = "coalesce(" ~ dbt.safe_cast("cast(round(100 * {}) as integer)", dbt.type_string()) ~ ", '')" %}

final as (

    select
        ---------- ids
        banded.learner_week_id,
        banded.learner_course_id,
        banded.learner_id,
        banded.course_id,
        ---------- strings
        banded.engagement_band,
        banded.performance_band,
        replace(
            replace(
                replace(
                    replace(
                        replace(
                            matched_templates.feedback_message,
                            '{course_week_number}',
                            {{ dbt.safe_cast('banded.course_week_number', dbt.type_string()) }}
                        ),
                        '{events}', {{ dbt.safe_cast('banded.events', dbt.type_string()) }}
                    ),
                    '{engagement_percent}', {{ as_percent.format('banded.engagement_percentile') }}
                ),
                '{performance_percent}', {{ as_percent.format('banded.performance_percentile') }}
            ),
            '{quiz_average_percent}', {{ as_percent.format('banded.cumulative_quiz_average_score') }}
        ) as feedback_message,
        ---------- numerics
        cast(banded.course_week_number as integer) as course_week_number,
        cast(banded.events as integer) as events,
        cast(banded.minutes_on_task as {{ type_double() }}) as minutes_on_task,
        cast(banded.cumulative_quiz_average_score as {{ type_double() }}) as quiz_average_score,
        cast(banded.cohort_learners as integer) as cohort_learners,
        cast(banded.cohort_learners_assessed as integer) as cohort_learners_assessed,
        cast(banded.engagement_percentile as {{ type_double() }}) as engagement_percentile,
        cast(banded.performance_percentile as {{ type_double() }}) as performance_percentile,
        ---------- booleans
        banded.is_complete_week,
        ---------- timestamps
        banded.week_starts_at,
        banded.week_ends_at

    from banded
    left join matched_templates
        on
            banded.learner_week_id = matched_templates.learner_week_id
            and matched_templates.specificity = 1

)

select * from final
