{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        **incremental_settings(unique_key='learner_week_id'),
    )
}}

with

learner_events as (

    select * from {{ ref('int_learner_events_sessionized') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

{% if is_incremental() %}

-- Learner-weeks with rewritten events are aggregated again from all their events.
changed_weeks as (

    select distinct learner_week_id
    from learner_events
    where loaded_at > {{ incremental_watermark('source_loaded_at') }}

),

events_in_scope as (

    select learner_events.*
    from learner_events
    inner join changed_weeks
        on learner_events.learner_week_id = changed_weeks.learner_week_id

),

{% else %}

events_in_scope as (

    select * from learner_events

),

{% endif %}

-- One row per learner-week and assignment submitted in it.
submissions as (

    select
        events_in_scope.learner_week_id,
        events_in_scope.course_module_id,
        min(events_in_scope.created_at) as submitted_at,
        max(activities.due_at) as due_at

    from events_in_scope
    left join activities
        on events_in_scope.course_module_id = activities.course_module_id
    where
        events_in_scope.activity_type = 'assign'
        and events_in_scope.analytics_action in ('submit', 'resubmit')
    group by events_in_scope.learner_week_id, events_in_scope.course_module_id

),

submissions_per_week as (

    select
        learner_week_id,
        count(*) as submissions,
        sum(case when due_at is null or submitted_at <= due_at then 1 else 0 end)
            as submissions_on_time,
        sum(case when submitted_at > due_at then 1 else 0 end) as submissions_late

    from submissions
    group by learner_week_id

),

events_per_week as (

    select
        learner_week_id,
        learner_course_id,
        course_id,
        course_week_number,
        sum(case when counts_as_activity then 1 else 0 end) as events,
        sum(case when counts_as_activity and crud = 'r' then 1 else 0 end) as read_events,
        sum(case when counts_as_activity and crud <> 'r' then 1 else 0 end) as write_events,
        count(distinct case when counts_as_activity then event_date end) as active_days,
        sum(case when is_session_start then 1 else 0 end) as sessions,
        sum(seconds_since_previous_event) as seconds_on_task,
        count(distinct case when counts_as_activity then course_module_id end)
            as distinct_activities,
        count(
            distinct case
                when activity_type = 'completion' and completion_state in (1, 2)
                    then course_module_id
            end
        ) as activities_completed,
        sum(case when analytics_action = 'attempt_submit' then 1 else 0 end) as quiz_attempts,
        sum(case when analytics_action = 'discussion_create' then 1 else 0 end)
            as forum_discussions_started,
        count(distinct case when object_table = 'forum_posts' then object_id end)
            as forum_posts,
        sum(case when not is_known_event then 1 else 0 end) as unknown_events,
        max(cognitive_depth) as cognitive_depth,
        max(social_breadth) as social_breadth,
        min(case when counts_as_activity then created_at end) as first_activity_at,
        max(case when counts_as_activity then created_at end) as last_activity_at,
        max(loaded_at) as source_loaded_at

    from events_in_scope
    group by learner_week_id, learner_course_id, course_id, course_week_number

),

final as (

    select
        events_per_week.learner_week_id,
        events_per_week.learner_course_id,
        events_per_week.course_id,
        events_per_week.course_week_number,
        events_per_week.events,
        events_per_week.read_events,
        events_per_week.write_events,
        events_per_week.active_days,
        events_per_week.sessions,
        events_per_week.seconds_on_task,
        events_per_week.distinct_activities,
        events_per_week.activities_completed,
        events_per_week.quiz_attempts,
        events_per_week.forum_discussions_started,
        events_per_week.forum_posts,
        events_per_week.unknown_events,
        events_per_week.cognitive_depth,
        events_per_week.social_breadth,
        events_per_week.first_activity_at,
        events_per_week.last_activity_at,
        events_per_week.source_loaded_at,
        coalesce(submissions_per_week.submissions, 0) as submissions,
        coalesce(submissions_per_week.submissions_on_time, 0) as submissions_on_time,
        coalesce(submissions_per_week.submissions_late, 0) as submissions_late

    from events_per_week
    left join submissions_per_week
        on events_per_week.learner_week_id = submissions_per_week.learner_week_id

)

select * from final
