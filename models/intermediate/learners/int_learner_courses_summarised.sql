{{ config(materialized='table') }}

{%- set definition = var('dropout_definition') %}
{%- set known_conditions = ['inactive_last_quarter', 'not_completed', 'below_pass_grade'] %}
{%- for condition in definition %}
{%- if condition not in known_conditions %}
        {{ exceptions.raise_compiler_error(
            "dropout_definition: unknown condition '" ~ condition ~ "'; use any of " ~ known_conditions | join(', ')
        ) }}
    {%- endif %}
{%- endfor %}

with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

learner_weeks as (

    select * from {{ ref('int_learner_weeks_cumulated') }}

),

learner_grades as (

    select * from {{ ref('int_learner_courses_graded') }}

),

learner_deadlines as (

    select * from {{ ref('int_learner_deadlines') }}

),

engagement as (

    select * from {{ ref('int_learner_engagement_scored') }}

),

weeks_summary as (

    select
        learner_course_id,
        count(*) as weeks_followed,
        sum(case when is_active then 1 else 0 end) as weeks_active,
        max(case when is_active then course_week_number end) as last_active_week_number,
        sum(events) as events,
        sum(sessions) as sessions,
        sum(minutes_on_task) as minutes_on_task,
        sum(submissions_on_time) as submissions_on_time,
        sum(submissions_late) as submissions_late,
        sum(quiz_attempts) as quiz_attempts,
        sum(forum_discussions_started) as forum_discussions_started,
        sum(forum_replies) as forum_replies,
        max(cumulative_completion_share) as completion_share,
        min(case when is_active then week_starts_at end) as first_active_week_starts_at,
        max(last_activity_at) as last_activity_at

    from learner_weeks
    group by learner_course_id

),

deadline_summary as (

    select
        learner_course_id,
        sum(case when due_at <= {{ as_of() }} then 1 else 0 end) as deadlines_passed,
        -- An early hand-in for a deadline still to come counts once it is due.
        sum(
            case when deadline_status = 'on_time' and due_at <= {{ as_of() }} then 1 else 0 end
        ) as deadlines_met_on_time,
        sum(case when deadline_status = 'late' then 1 else 0 end) as deadlines_met_late,
        sum(case when deadline_status = 'missing' then 1 else 0 end) as deadlines_missed

    from learner_deadlines
    group by learner_course_id

),

joined as (

    select
        course_learners.*,
        -- Course length in whole weeks from week 1 to the (effective) end.
        {{ weeks_spanned('course_learners.week_one_starts_at', 'course_learners.course_ends_at') }} as course_weeks,
        course_learners.course_ends_at <= {{ as_of() }} as is_outcome_known,
        weeks_summary.weeks_followed,
        weeks_summary.weeks_active,
        weeks_summary.last_active_week_number,
        weeks_summary.events,
        weeks_summary.sessions,
        weeks_summary.minutes_on_task,
        weeks_summary.submissions_on_time,
        weeks_summary.submissions_late,
        weeks_summary.quiz_attempts,
        weeks_summary.forum_discussions_started,
        weeks_summary.forum_replies,
        weeks_summary.completion_share,
        weeks_summary.last_activity_at,
        engagement.first_activity_at,
        learner_grades.final_grade_share,
        coalesce(learner_grades.pass_share, {{ var('default_pass_share') }}) as pass_share,
        learner_grades.is_passing,
        learner_grades.quiz_average_grade_share,
        learner_grades.completed_at,
        deadline_summary.deadlines_passed,
        deadline_summary.deadlines_met_on_time,
        deadline_summary.deadlines_met_late,
        deadline_summary.deadlines_missed,
        engagement.cognitive_depth_score,
        engagement.social_breadth_score

    from course_learners
    left join weeks_summary using (learner_course_id)
    left join engagement using (learner_course_id)
    left join learner_grades using (learner_course_id)
    left join deadline_summary using (learner_course_id)

),

labelled as (

    select
        *,
        -- The last quarter of a 14-week course is weeks 11 to 14.
        coalesce(last_active_week_number, 0) <= floor(0.75 * course_weeks) as is_inactive_last_quarter,
        has_completion_tracking and completed_at is null as is_not_completed,
        coalesce(final_grade_share < pass_share, true) as is_below_pass_grade

    from joined

),

final as (

    select
        ---------- ids
        learner_course_id,
        learner_id,
        course_id,
        ---------- strings
        enrolment_method,
        '{{ definition | join(",") }}' as dropout_definition,
        ---------- numerics
        cast(course_weeks as integer) as course_weeks,
        cast(coalesce(weeks_followed, 0) as integer) as weeks_followed,
        cast(coalesce(weeks_active, 0) as integer) as weeks_active,
        cast(last_active_week_number as integer) as last_active_week_number,
        cast(coalesce(events, 0) as integer) as events,
        cast(coalesce(sessions, 0) as integer) as sessions,
        cast(coalesce(minutes_on_task, 0) as {{ type_double() }}) as minutes_on_task,
        cast(
            {{ calendar_days_between('enrolled_at', 'first_activity_at') }} as integer
        ) as days_to_first_activity,
        cast(final_grade_share as {{ type_double() }}) as final_grade_share,
        cast(pass_share as {{ type_double() }}) as pass_share,
        cast(coalesce(deadlines_passed, 0) as integer) as deadlines_passed,
        cast(coalesce(deadlines_met_on_time, 0) as integer) as deadlines_met_on_time,
        cast(coalesce(deadlines_met_late, 0) as integer) as deadlines_met_late,
        cast(coalesce(deadlines_missed, 0) as integer) as deadlines_missed,
        cast(
            case when deadlines_passed > 0 then 1.0 * deadlines_met_on_time / deadlines_passed end
            as {{ type_double() }}
        ) as on_time_rate,
        cast(coalesce(submissions_on_time, 0) as integer) as submissions_on_time,
        cast(coalesce(submissions_late, 0) as integer) as submissions_late,
        cast(coalesce(quiz_attempts, 0) as integer) as quiz_attempts,
        cast(quiz_average_grade_share as {{ type_double() }}) as quiz_average_grade_share,
        cast(coalesce(forum_discussions_started, 0) as integer) as forum_discussions_started,
        cast(coalesce(forum_replies, 0) as integer) as forum_replies,
        cast(completion_share as {{ type_double() }}) as completion_share,
        cast(coalesce(cognitive_depth_score, 0) as {{ type_double() }}) as cognitive_depth_score,
        cast(coalesce(social_breadth_score, 0) as {{ type_double() }}) as social_breadth_score,
        ---------- booleans
        coalesce(is_passing, false) as has_passed,
        completed_at is not null as is_completed,
        is_enrolment_suspended,
        is_outcome_known,
        is_inactive_last_quarter,
        is_not_completed,
        is_below_pass_grade,
        case
            when is_outcome_known then
            {%- for condition in definition %}
                {{ 'is_' ~ condition }}{% if not loop.last %} or{% endif %}
                {%- endfor %}
        end as is_dropout,
        ---------- timestamps
        enrolled_at,
        enrolment_ends_at,
        week_one_starts_at,
        course_ends_at,
        first_activity_at,
        last_activity_at,
        completed_at,
        ---------- the learner's membership, for the lists people act on
        user_id,
        has_active_enrolment,
        has_open_enrolment,
        is_account_closed

    from labelled

)

select * from final
