{#- A changed due date times the submissions of its course anew. -#}
{%- set edited_scopes = ['learner_course', 'activity'] %}

{{ config(**incremental_settings(unique_key='learner_week_id', edited_scopes=edited_scopes)) }}

-- depends_on: {{ ref('int_event_contexts_fingerprinted') }}
{{ check_stored_learner_keys(ref('int_course_learners')) }}

with

log_events as (

    select * from {{ ref('int_log_events_classified') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

learner_events as (

    select * from log_events
    where disposition = 'used'

),

-- Learner-weeks with rewritten events are aggregated again from all their events.
events_in_scope as (

    {{ rows_with_changed_keys(
        'learner_events', ['user_id', 'course_id', 'course_week_number'], edited_scopes=edited_scopes
    ) }}

),

-- One row per learner-week and assignment submitted in it.
submissions as (

    select
        events_in_scope.user_id,
        events_in_scope.course_id,
        events_in_scope.course_week_number,
        events_in_scope.course_module_id,
        min(events_in_scope.created_at) as submitted_at,
        max(activities.due_at) as due_at

    from events_in_scope
    left join activities using (course_module_id)
    where events_in_scope.is_assignment_submission
    group by
        events_in_scope.user_id,
        events_in_scope.course_id,
        events_in_scope.course_week_number,
        events_in_scope.course_module_id

),

submissions_per_week as (

    select
        user_id,
        course_id,
        course_week_number,
        count(*) as submissions,
        sum(case when due_at is null or submitted_at <= due_at then 1 else 0 end)
            as submissions_on_time,
        sum(case when submitted_at > due_at then 1 else 0 end) as submissions_late

    from submissions
    group by user_id, course_id, course_week_number

),

-- Grouped on the integer keys; the text keys are built once per week below.
events_per_week as (

    select
        user_id,
        course_id,
        course_week_number,
        count(*) as log_rows,
        sum(case when counts_as_activity then 1 else 0 end) as events,
        sum(case when counts_as_activity and is_read_event then 1 else 0 end) as read_events,
        sum(case when counts_as_activity and not is_read_event then 1 else 0 end) as write_events,
        count(distinct case when counts_as_activity then cast(created_at as date) end) as active_days,
        sum(case when is_session_start then 1 else 0 end) as sessions,
        sum(seconds_since_previous_event) as seconds_on_task,
        count(distinct case when counts_as_activity then course_module_id end)
            as distinct_activities,
        count(distinct case when is_activity_completion then course_module_id end) as activities_completed,
        sum(case when is_quiz_attempt_submission then 1 else 0 end) as quiz_attempts,
        sum(case when is_discussion_start then 1 else 0 end) as forum_discussions_started,
        count(distinct forum_post_id) as forum_posts,
        sum(case when not is_known_event then 1 else 0 end) as unknown_events,
        max(cognitive_depth) as cognitive_depth,
        max(social_breadth) as social_breadth,
        min(case when counts_as_activity then created_at end) as first_activity_at,
        max(case when counts_as_activity then created_at end) as last_activity_at,
        max(loaded_at) as source_loaded_at

    from events_in_scope
    group by user_id, course_id, course_week_number

),

final as (

    select
        ---------- ids
        {{ composite_key(['course_learners.learner_course_id', 'events_per_week.course_week_number']) }}
            as learner_week_id,
        course_learners.learner_course_id,
        events_per_week.user_id,
        events_per_week.course_id,
        ---------- numerics
        events_per_week.course_week_number,
        events_per_week.log_rows,
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
        coalesce(submissions_per_week.submissions, 0) as submissions,
        coalesce(submissions_per_week.submissions_on_time, 0) as submissions_on_time,
        coalesce(submissions_per_week.submissions_late, 0) as submissions_late,
        ---------- timestamps
        events_per_week.first_activity_at,
        events_per_week.last_activity_at,
        events_per_week.source_loaded_at

    from events_per_week
    -- Used events are a learner's in their course: the pseudonymous keys come
    -- from the learner-course, joined on the integer keys once per week.
    inner join course_learners using (user_id, course_id)
    left join submissions_per_week using (user_id, course_id, course_week_number)

)

select * from final
