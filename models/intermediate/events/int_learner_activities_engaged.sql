{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        **incremental_settings(unique_key='learner_activity_id'),
    )
}}

with

learner_events as (

    select * from {{ ref('int_learner_events_sessionized') }}

),

{% if is_incremental() %}

-- Learner-activities with rewritten events are aggregated again from all their events.
changed_activities as (

    select distinct
        learner_course_id,
        course_module_id
    from learner_events
    where
        course_module_id is not null
        and loaded_at > {{ incremental_watermark('source_loaded_at') }}

),

events_in_scope as (

    select learner_events.*
    from learner_events
    inner join changed_activities
        on
            learner_events.learner_course_id = changed_activities.learner_course_id
            and learner_events.course_module_id = changed_activities.course_module_id

),

{% else %}

events_in_scope as (

    select * from learner_events
    where course_module_id is not null

),

{% endif %}

final as (

    select
        ---------- ids
        {{ composite_key(['learner_course_id', 'course_module_id']) }} as learner_activity_id,
        learner_course_id,
        course_id,
        course_module_id,
        ---------- numerics
        sum(case when counts_as_activity and crud = 'r' then 1 else 0 end) as view_events,
        sum(case when is_learner_write then 1 else 0 end) as writes,
        max(cognitive_depth) as cognitive_depth,
        max(social_breadth) as social_breadth,
        ---------- timestamps
        min(case when counts_as_activity then created_at end) as first_engaged_at,
        max(case when counts_as_activity then created_at end) as last_engaged_at,
        -- The first time the learner handed something in: a submission, a
        -- finished quiz attempt, a forum post, a survey response.
        min(
            case
                when analytics_action in ('submit', 'resubmit', 'attempt_submit', 'post', 'discussion_create')
                    then created_at
            end
        ) as first_handed_in_at,
        max(loaded_at) as source_loaded_at

    from events_in_scope
    group by learner_course_id, course_id, course_module_id

)

select * from final
