{{ config(**incremental_settings(unique_key='learner_course_id', edited_scopes=['learner_course'])) }}

-- depends_on: {{ ref('int_event_contexts_fingerprinted') }}
{{ check_stored_learner_keys(ref('int_course_learners')) }}

with

log_events as (

    select * from {{ ref('int_log_events_classified') }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

learner_events as (

    select
        log_event_id,
        user_id,
        course_id,
        course_module_id,
        is_session_start,
        seconds_since_previous_event,
        created_at,
        loaded_at

    from log_events
    where disposition = 'used'

),

-- A late event can merge or split a learner's sessions, so a learner-course
-- with rewritten events gets all its sessions again, and the batch replaces
-- all its stored ones (the key above is the learner-course, not the session).
events_in_scope as (

    {{ rows_with_changed_keys('learner_events', ['user_id', 'course_id']) }}

),

-- Each event belongs to the latest session started at or before it: a
-- running count of session starts numbers the sessions of a learner-course.
numbered as (

    select
        *,
        sum(case when is_session_start then 1 else 0 end) over (
            partition by user_id, course_id
            order by created_at, log_event_id
            rows between unbounded preceding and current row
        ) as session_number

    from events_in_scope

),

sessions as (

    select
        user_id,
        course_id,
        min(created_at) as session_started_at,
        count(*) as events,
        count(distinct course_module_id) as distinct_activities,
        -- Time on task: the gaps between a session's events; a one-event
        -- session counts zero.
        sum(seconds_since_previous_event) as seconds_on_task,
        max(created_at) as session_ended_at,
        max(loaded_at) as source_loaded_at

    from numbered
    group by user_id, course_id, session_number

),

final as (

    select
        ---------- ids
        {{ composite_key(['course_learners.learner_course_id', timestamp_to_epoch('sessions.session_started_at')]) }}
            as learner_session_id,
        course_learners.learner_course_id,
        course_learners.learner_id,
        sessions.user_id,
        sessions.course_id,
        ---------- numerics
        sessions.events,
        sessions.distinct_activities,
        sessions.seconds_on_task,
        ---------- timestamps
        sessions.session_started_at,
        sessions.session_ended_at,
        sessions.source_loaded_at

    from sessions
    inner join course_learners using (user_id, course_id)

)

select * from final
