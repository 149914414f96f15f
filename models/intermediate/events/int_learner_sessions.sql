{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        **incremental_settings(unique_key='learner_course_id'),
    )
}}

with

learner_events as (

    select * from {{ ref('int_learner_events_sessionized') }}

),

{% if is_incremental() %}

-- A late event can merge or split a learner's sessions, so a learner-course
-- with rewritten events gets all its sessions again, and the batch replaces
-- all its stored ones (the key above is the learner-course, not the session).
changed_learner_courses as (

    select distinct learner_course_id
    from learner_events
    where loaded_at > {{ incremental_watermark('source_loaded_at') }}

),

events_in_scope as (

    select learner_events.*
    from learner_events
    inner join changed_learner_courses
        on learner_events.learner_course_id = changed_learner_courses.learner_course_id

),

{% else %}

events_in_scope as (

    select * from learner_events

),

{% endif %}

final as (

    select
        ---------- ids
        {{ composite_key(['learner_course_id', timestamp_to_epoch('session_started_at')]) }}
            as learner_session_id,
        learner_course_id,
        learner_id,
        course_id,
        ---------- numerics
        count(*) as events,
        count(distinct course_module_id) as distinct_activities,
        -- Time on task: the gaps between a session's events; a one-event
        -- session counts zero.
        sum(seconds_since_previous_event) as seconds_on_task,
        ---------- timestamps
        session_started_at,
        max(created_at) as session_ended_at,
        max(loaded_at) as source_loaded_at

    from events_in_scope
    group by learner_course_id, learner_id, course_id, session_started_at

)

select * from final
