{{ config(**incremental_settings(unique_key='learner_activity_id', edited_scopes=['learner_course'])) }}

-- depends_on: {{ ref('int_event_contexts_fingerprinted') }}
{{ check_stored_learner_keys(ref('int_course_learners')) }}

with

log_events as (

    select * from {{ ref('int_log_events_classified') }}

),

activity_events as (

    select * from log_events
    where disposition = 'used' and course_module_id is not null

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

-- Learner-activities with rewritten events are aggregated again from all their events.
events_in_scope as (

    {{ rows_with_changed_keys('activity_events', ['user_id', 'course_id', 'course_module_id']) }}

),

per_activity as (

    select
        user_id,
        course_id,
        course_module_id,
        sum(case when counts_as_activity and is_read_event then 1 else 0 end) as view_events,
        sum(case when is_learner_write then 1 else 0 end) as writes,
        max(cognitive_depth) as cognitive_depth,
        max(social_breadth) as social_breadth,
        min(case when counts_as_activity then created_at end) as first_engaged_at,
        max(case when counts_as_activity then created_at end) as last_engaged_at,
        -- The first time the learner handed something in: a submission, a
        -- finished quiz attempt, a forum post, a survey response.
        min(case when is_hand_in then created_at end) as first_handed_in_at,
        max(loaded_at) as source_loaded_at

    from events_in_scope
    group by user_id, course_id, course_module_id

),

final as (

    select
        ---------- ids
        {{ composite_key(['course_learners.learner_course_id', 'per_activity.course_module_id']) }}
            as learner_activity_id,
        course_learners.learner_course_id,
        per_activity.user_id,
        per_activity.course_id,
        per_activity.course_module_id,
        ---------- numerics
        per_activity.view_events,
        per_activity.writes,
        per_activity.cognitive_depth,
        per_activity.social_breadth,
        ---------- timestamps
        per_activity.first_engaged_at,
        per_activity.last_engaged_at,
        per_activity.first_handed_in_at,
        per_activity.source_loaded_at

    from per_activity
    -- Used events are a learner's in their course: the pseudonymous keys come
    -- from the learner-course, joined on the integer keys once per activity.
    inner join course_learners using (user_id, course_id)

)

select * from final
