{{ config(**incremental_settings(
    unique_key=['user_id', 'course_id', 'course_day_number', 'event_date'], edited_scopes=['learner_course']
)) }}

-- depends_on: {{ ref('int_event_contexts_fingerprinted') }}

with

log_events as (

    select * from {{ ref('int_log_events_classified') }}

),

learner_events as (

    select
        *,
        cast(created_at as date) as event_date

    from log_events
    where disposition = 'used'

),

-- Learner-days with rewritten events are aggregated again from all their events.
events_in_scope as (

    {{ rows_with_changed_keys('learner_events', ['user_id', 'course_id', 'course_day_number', 'event_date']) }}

),

final as (

    select
        ---------- ids
        user_id,
        course_id,
        ---------- the day: of the course, and of the calendar (UTC)
        course_day_number,
        event_date,
        ---------- numerics
        sum(case when counts_as_activity then 1 else 0 end) as events,
        sum(case when is_session_start then 1 else 0 end) as sessions,
        sum(seconds_since_previous_event) as seconds_on_task,
        ---------- timestamps
        max(loaded_at) as source_loaded_at

    from events_in_scope
    group by user_id, course_id, course_day_number, event_date

)

select * from final
