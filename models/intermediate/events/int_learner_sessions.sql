{{ config(materialized='table') }}

with

learner_events as (

    select * from {{ ref('int_learner_events_sessionized') }}

),

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
        max(created_at) as session_ended_at

    from learner_events
    group by learner_course_id, learner_id, course_id, session_started_at

)

select * from final
