{%- set min_cohort = var('risk_min_cohort_size') %}

with

learner_weeks as (

    select * from {{ ref('int_learner_weeks_cumulated') }}

),

learner_courses as (

    select * from {{ ref('int_learner_courses_summarised') }}

),

learner_days as (

    select * from {{ ref('int_learner_days_aggregated') }}

),

log_events as (

    select * from {{ ref('int_log_events_classified') }}

),

learner_deadlines as (

    select * from {{ ref('int_learner_deadlines') }}

),

quiz_attempts as (

    select * from {{ ref('int_quiz_attempts_scored') }}

),

-- Every feature of a week is as of its end, or of the as-of moment while
-- the week is still running: nothing later may reach it.
windowed_weeks as (

    select
        *,
        case
            when week_ends_at < {{ as_of() }} then week_ends_at
            else {{ as_of() }}
        end as observed_at,
        row_number() over (
            partition by learner_course_id
            order by course_week_number
        ) as weeks_followed

    from learner_weeks

),

-- Rolling windows of 7 and 14 days before the moment a week is observed at.
-- A week observed at its end covers its own learner-days (the last 7 days)
-- and those of the week before (the last 14): each learner-day counts
-- toward the week it falls in and toward the next.
window_offsets as (

    select
        0 as weeks_later,
        true as is_last_7_days
    union all
    select
        1 as weeks_later,
        false as is_last_7_days

),

day_windows as (

    select
        learner_days.user_id,
        learner_days.course_id,
        window_offsets.is_last_7_days,
        learner_days.event_date,
        learner_days.events,
        learner_days.sessions,
        learner_days.seconds_on_task,
        cast(floor((learner_days.course_day_number - 1) / 7.0) as integer) + 1 + window_offsets.weeks_later
            as course_week_number

    from learner_days
    cross join window_offsets

),

-- The running week is observed at the as-of moment, within a day: its
-- windows come from the events of the last 14 days themselves.
recent_events as (

    select * from log_events
    where
        disposition = 'used'
        and created_at >= {{ add_seconds(as_of(), -14 * 86400) }}

),

window_days as (

    select
        windowed_weeks.learner_week_id,
        day_windows.is_last_7_days,
        day_windows.event_date,
        day_windows.events,
        day_windows.sessions,
        day_windows.seconds_on_task

    from windowed_weeks
    inner join day_windows using (user_id, course_id, course_week_number)
    where windowed_weeks.observed_at = windowed_weeks.week_ends_at

    union all

    select
        windowed_weeks.learner_week_id,
        recent_events.created_at >= {{ add_seconds('windowed_weeks.observed_at', -7 * 86400) }} as is_last_7_days,
        cast(recent_events.created_at as date) as event_date,
        case when recent_events.counts_as_activity then 1 else 0 end as events,
        case when recent_events.is_session_start then 1 else 0 end as sessions,
        recent_events.seconds_since_previous_event as seconds_on_task

    from windowed_weeks
    inner join recent_events
        on
            windowed_weeks.user_id = recent_events.user_id
            and windowed_weeks.course_id = recent_events.course_id
            and {{ add_seconds('windowed_weeks.observed_at', -14 * 86400) }} <= recent_events.created_at
            and windowed_weeks.week_ends_at > recent_events.created_at
    where windowed_weeks.observed_at < windowed_weeks.week_ends_at

),

recent_activity as (

    select
        learner_week_id,
        sum(case when is_last_7_days then events else 0 end) as events_last_7_days,
        sum(events) as events_last_14_days,
        count(distinct case when is_last_7_days and events > 0 then event_date end) as active_days_last_7_days,
        count(distinct case when events > 0 then event_date end) as active_days_last_14_days,
        sum(sessions) as sessions_last_14_days,
        sum(seconds_on_task) as seconds_on_task_last_14_days

    from window_days
    group by learner_week_id

),

-- A deadline counts once it has passed; what was handed in counts only if
-- it was handed in before the week's end.
deadlines_so_far as (

    select
        windowed_weeks.learner_week_id,
        count(*) as deadlines_due,
        sum(
            case
                when learner_deadlines.first_handed_in_at <= learner_deadlines.due_at then 1
                else 0
            end
        ) as deadlines_on_time,
        sum(
            case
                when
                    learner_deadlines.first_handed_in_at > learner_deadlines.due_at
                    and learner_deadlines.first_handed_in_at < windowed_weeks.observed_at
                    then 1
                else 0
            end
        ) as deadlines_late

    from windowed_weeks
    inner join learner_deadlines
        on
            windowed_weeks.learner_course_id = learner_deadlines.learner_course_id
            and windowed_weeks.observed_at > learner_deadlines.due_at
    group by windowed_weeks.learner_week_id

),

joined as (

    select
        windowed_weeks.learner_week_id,
        windowed_weeks.learner_course_id,
        windowed_weeks.learner_id,
        windowed_weeks.course_id,
        windowed_weeks.course_week_number,
        learner_courses.course_weeks,
        windowed_weeks.weeks_followed,
        windowed_weeks.events,
        windowed_weeks.cumulative_events,
        windowed_weeks.cumulative_active_days,
        windowed_weeks.days_inactive_at_week_end,
        windowed_weeks.cumulative_sessions,
        windowed_weeks.cumulative_minutes_on_task,
        windowed_weeks.cumulative_submissions,
        windowed_weeks.cumulative_quiz_attempts,
        windowed_weeks.cumulative_quiz_average_score,
        windowed_weeks.cumulative_forum_posts,
        windowed_weeks.cumulative_activities_completed,
        windowed_weeks.cumulative_completion_share,
        windowed_weeks.cumulative_cognitive_depth,
        windowed_weeks.cumulative_social_breadth,
        windowed_weeks.is_complete_week,
        windowed_weeks.week_starts_at,
        windowed_weeks.week_ends_at,
        windowed_weeks.observed_at,
        windowed_weeks.enrolled_at,
        windowed_weeks.week_one_starts_at,
        learner_courses.is_dropout,
        learner_courses.is_outcome_known,
        learner_courses.course_ends_at,
        coalesce(recent_activity.events_last_7_days, 0) as events_last_7_days,
        coalesce(recent_activity.events_last_14_days, 0) as events_last_14_days,
        coalesce(recent_activity.active_days_last_7_days, 0) as active_days_last_7_days,
        coalesce(recent_activity.active_days_last_14_days, 0) as active_days_last_14_days,
        coalesce(recent_activity.sessions_last_14_days, 0) as sessions_last_14_days,
        coalesce(recent_activity.seconds_on_task_last_14_days, 0) as seconds_on_task_last_14_days,
        coalesce(deadlines_so_far.deadlines_due, 0) as deadlines_due,
        coalesce(deadlines_so_far.deadlines_on_time, 0) as deadlines_on_time,
        coalesce(deadlines_so_far.deadlines_late, 0) as deadlines_late,
        -- Expected to take part from the course start, or from enrolment when later.
        case
            when windowed_weeks.enrolled_at > windowed_weeks.week_one_starts_at
                then windowed_weeks.enrolled_at
            else windowed_weeks.week_one_starts_at
        end as expected_start_at,
        case
            when windowed_weeks.first_activity_so_far_at < windowed_weeks.observed_at
                then windowed_weeks.first_activity_so_far_at
        end as first_activity_so_far_at,
        case
            when windowed_weeks.observed_at <= windowed_weeks.enrolled_at
                or windowed_weeks.observed_at <= windowed_weeks.week_one_starts_at
                then 0
            when windowed_weeks.enrolled_at > windowed_weeks.week_one_starts_at
                then {{ calendar_days_between('windowed_weeks.enrolled_at', 'windowed_weeks.observed_at') }}
            else {{ calendar_days_between('windowed_weeks.week_one_starts_at', 'windowed_weeks.observed_at') }}
        end as days_since_expected_start

    from windowed_weeks
    inner join learner_courses using (learner_course_id)
    left join recent_activity using (learner_week_id)
    left join deadlines_so_far using (learner_week_id)

),

-- A learner's cohort: the learners of the course in the same course week
-- with the same week 1, so every peer's week is as of the same moment.
-- (In a course without a start date week 1 is each learner's enrolment.)
{%- set cohort -%}
partition by course_id, course_week_number, week_one_starts_at
{%- endset %}

ranked as (

    select
        *,
        count(*) over ({{ cohort }}) as cohort_learners,
        percent_rank() over ({{ cohort }} order by cumulative_events) as cumulative_events_rank,
        percent_rank() over ({{ cohort }} order by events_last_14_days) as recent_events_rank,
        percent_rank() over ({{ cohort }} order by cumulative_minutes_on_task) as minutes_on_task_rank,
        percent_rank() over (
            {{ cohort }} order by coalesce(cumulative_completion_share, 0)
        ) as completion_rank

    from joined

),

-- A quiz says something of a learner who has not attempted it only once
-- more than half of the cohort has: a quiz for one group (one per lab
-- group) says nothing of the others, and neither a Logs download nor every
-- site's restrictions say to whom a quiz was open.
quiz_first_attempts as (

    select
        learner_course_id,
        quiz_id,
        min(finished_at) as first_finished_at

    from quiz_attempts
    where learner_course_id is not null
    group by learner_course_id, quiz_id

),

cohort_quizzes_attempted as (

    select
        ranked.learner_week_id,
        ranked.cohort_learners,
        count(*) over ({{ cohort }}, quiz_first_attempts.quiz_id) as cohort_attempters

    from ranked
    inner join quiz_first_attempts
        on
            ranked.learner_course_id = quiz_first_attempts.learner_course_id
            and ranked.observed_at > quiz_first_attempts.first_finished_at

),

common_quizzes_attempted as (

    select
        learner_week_id,
        count(*) as common_quizzes_attempted

    from cohort_quizzes_attempted
    where 2 * cohort_attempters > cohort_learners
    group by learner_week_id

),

{{ cohort_medians('joined', [
    ('cumulative_quiz_average_score', 'course_median_quiz_average'),
    ('events_last_14_days', 'course_median_events_last_14_days'),
    ('cumulative_completion_share', 'course_median_completion_share'),
    ('cumulative_forum_posts', 'course_median_forum_posts'),
], min_cohort) }},

final as (

    select
        ---------- ids
        ranked.learner_week_id,
        ranked.learner_course_id,
        ranked.learner_id,
        ranked.course_id,
        ---------- numerics
        cast(ranked.course_week_number as integer) as course_week_number,
        cast(ranked.course_weeks as integer) as course_weeks,
        cast(
            case
                when ranked.course_week_number >= ranked.course_weeks then 1.0
                else cast(ranked.course_week_number as {{ type_double() }}) / ranked.course_weeks
            end as {{ type_double() }}
        ) as course_progress_share,
        cast(ranked.weeks_followed as integer) as weeks_followed,
        cast(ranked.events_last_7_days as integer) as events_last_7_days,
        cast(ranked.events_last_14_days as integer) as events_last_14_days,
        cast(ranked.cumulative_events as integer) as events_so_far,
        cast(ranked.active_days_last_7_days as integer) as active_days_last_7_days,
        cast(ranked.active_days_last_14_days as integer) as active_days_last_14_days,
        cast(ranked.cumulative_active_days as integer) as active_days_so_far,
        -- Never active: counted from the expected start, not from an early enrolment.
        cast(
            case
                when ranked.first_activity_so_far_at is null then ranked.days_since_expected_start
                else ranked.days_inactive_at_week_end
            end as integer
        ) as days_since_last_activity,
        cast(ranked.sessions_last_14_days as integer) as sessions_last_14_days,
        cast(ranked.cumulative_sessions as integer) as sessions_so_far,
        cast(round(ranked.seconds_on_task_last_14_days / 60.0, 1) as {{ type_double() }})
            as minutes_on_task_last_14_days,
        cast(ranked.cumulative_minutes_on_task as {{ type_double() }}) as minutes_on_task_so_far,
        -- Average events of the learner's earlier weeks, for the trend.
        cast(
            case
                when ranked.weeks_followed > 1
                    then
                        cast(ranked.cumulative_events - ranked.events as {{ type_double() }})
                        / (ranked.weeks_followed - 1)
            end as {{ type_double() }}
        ) as earlier_weekly_events,
        -- Last 7 days against the earlier weekly average; 1 is steady, below
        -- 1 a decline. Plus one on both sides so silent weeks compare.
        cast(
            case
                when ranked.weeks_followed > 1
                    then
                        cast(ranked.events_last_7_days + 1 as {{ type_double() }})
                        / (
                            cast(ranked.cumulative_events - ranked.events as {{ type_double() }})
                            / (ranked.weeks_followed - 1)
                            + 1
                        )
            end as {{ type_double() }}
        ) as activity_trend_ratio,
        cast(ranked.deadlines_due as integer) as deadlines_due,
        cast(ranked.deadlines_on_time as integer) as deadlines_on_time,
        cast(ranked.deadlines_late as integer) as deadlines_late,
        cast(ranked.deadlines_due - ranked.deadlines_on_time - ranked.deadlines_late as integer)
            as deadlines_missing,
        cast(
            case
                when ranked.deadlines_due > 0
                    then cast(ranked.deadlines_on_time as {{ type_double() }}) / ranked.deadlines_due
            end
            as {{ type_double() }}
        ) as deadlines_on_time_share,
        cast(
            case
                when ranked.deadlines_due > 0
                    then cast(ranked.deadlines_late as {{ type_double() }}) / ranked.deadlines_due
            end
            as {{ type_double() }}
        ) as deadlines_late_share,
        cast(
            case
                when ranked.deadlines_due > 0
                    then
                        cast(
                            ranked.deadlines_due - ranked.deadlines_on_time - ranked.deadlines_late
                            as {{ type_double() }}
                        )
                        / ranked.deadlines_due
            end as {{ type_double() }}
        ) as deadlines_missing_share,
        cast(ranked.cumulative_submissions as integer) as submissions_so_far,
        cast(ranked.cumulative_quiz_attempts as integer) as quiz_attempts_so_far,
        cast(coalesce(common_quizzes_attempted.common_quizzes_attempted, 0) as integer)
            as common_quizzes_attempted_so_far,
        cast(ranked.cumulative_quiz_average_score as {{ type_double() }}) as quiz_average_so_far,
        cast(cohort_medians.course_median_quiz_average as {{ type_double() }}) as course_median_quiz_average,
        cast(ranked.cumulative_forum_posts as integer) as forum_posts_so_far,
        cast(cohort_medians.course_median_forum_posts as {{ type_double() }}) as course_median_forum_posts,
        cast(ranked.cumulative_activities_completed as integer) as activities_completed_so_far,
        cast(ranked.cumulative_completion_share as {{ type_double() }}) as completion_share_so_far,
        cast(cohort_medians.course_median_completion_share as {{ type_double() }}) as course_median_completion_share,
        cast(cohort_medians.course_median_events_last_14_days as {{ type_double() }})
            as course_median_events_last_14_days,
        cast(ranked.cohort_learners as integer) as cohort_learners,
        {%- for rank_name, feature_name in [
            ('cumulative_events_rank', 'events_so_far_percentile'),
            ('recent_events_rank', 'events_last_14_days_percentile'),
            ('minutes_on_task_rank', 'minutes_on_task_so_far_percentile'),
            ('completion_rank', 'completion_share_so_far_percentile'),
        ] %}
        cast(
            case when ranked.cohort_learners >= {{ min_cohort }} then ranked.{{ rank_name }} end
            as {{ type_double() }}
        ) as {{ feature_name }},
        {%- endfor %}
        -- Activity before the expected start counts as starting on day 0.
        cast(
            case
                when ranked.first_activity_so_far_at > ranked.expected_start_at
                    then {{ calendar_days_between('ranked.expected_start_at', 'ranked.first_activity_so_far_at') }}
                when ranked.first_activity_so_far_at is not null then 0
            end as integer
        ) as days_to_first_activity,
        cast(ranked.days_since_expected_start as integer) as days_since_expected_start,
        cast(ranked.cumulative_cognitive_depth as integer) as cognitive_depth_so_far,
        cast(ranked.cumulative_social_breadth as integer) as social_breadth_so_far,
        ---------- booleans
        ranked.first_activity_so_far_at is not null as has_been_active,
        ranked.is_complete_week,
        ---------- timestamps
        ranked.week_starts_at,
        ranked.week_ends_at,
        ranked.observed_at,
        ranked.week_one_starts_at,
        ranked.enrolled_at,
        ---------- labels: outcomes for training and evaluation, never features
        ranked.is_outcome_known,
        ranked.is_dropout,
        ranked.course_ends_at as outcome_known_at

    from ranked
    left join common_quizzes_attempted using (learner_week_id)
    left join cohort_medians using (course_id, course_week_number, week_one_starts_at)

)

select * from final
