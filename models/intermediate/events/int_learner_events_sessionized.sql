{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        **incremental_settings(unique_key='log_event_id'),
    )
}}

{%- set session_gap_seconds = var('session_gap_minutes') * 60 %}

with

classified_events as (

    select * from {{ ref('int_log_events_classified') }}

),

event_catalogue as (

    select * from {{ ref('moodle_event_catalogue') }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

used_events as (

    select * from classified_events
    where disposition = 'used'

),

new_learner_events as (

    select * from used_events
    {% if is_incremental() %}
    where loaded_at > {{ incremental_watermark('source_loaded_at') }}
    {% endif %}

),

described as (

    select
        new_learner_events.log_event_id,
        new_learner_events.learner_course_id,
        course_learners.learner_id,
        new_learner_events.user_id,
        new_learner_events.course_id,
        new_learner_events.course_module_id,
        new_learner_events.object_id,
        new_learner_events.event_name,
        new_learner_events.object_table,
        new_learner_events.crud,
        new_learner_events.completion_state,
        -- Events the catalogue does not know fall back on Moodle's own codes.
        event_catalogue.event_name is not null as is_known_event,
        coalesce(
            event_catalogue.activity_type,
            case
                when substring(new_learner_events.component, 1, 4) = 'mod_'
                    then substring(new_learner_events.component, 5)
                else 'course'
            end
        ) as activity_type,
        coalesce(
            event_catalogue.analytics_action,
            case when new_learner_events.crud = 'r' then 'view' else 'write' end
        ) as analytics_action,
        coalesce(
            event_catalogue.is_learner_write,
            new_learner_events.crud in ('c', 'u') and new_learner_events.education_level = 2
        ) as is_learner_write,
        coalesce(
            event_catalogue.counts_as_activity,
            new_learner_events.education_level = 2
        ) as counts_as_activity,
        event_catalogue.cognitive_depth,
        event_catalogue.social_breadth,
        new_learner_events.created_at,
        {{ week_number('course_learners.week_one_starts_at', 'new_learner_events.created_at') }}
            as raw_week_number,
        new_learner_events.loaded_at as source_loaded_at,
        cast(null as {{ dbt.type_timestamp() }}) as stored_session_started_at,
        false as is_context

    from new_learner_events
    inner join course_learners
        on new_learner_events.learner_course_id = course_learners.learner_course_id
    left join event_catalogue
        on new_learner_events.event_name = event_catalogue.event_name

),

{% if is_incremental() %}

-- Sessions are rebuilt from each learner-course's first new event on; the
-- stored events within one session gap before it give the context.
first_new_events as (

    select
        learner_course_id,
        min(created_at) as first_new_at

    from described
    group by learner_course_id

),

stored_events as (

    select
        stored_events_table.log_event_id,
        stored_events_table.learner_course_id,
        stored_events_table.learner_id,
        stored_events_table.user_id,
        stored_events_table.course_id,
        stored_events_table.course_module_id,
        stored_events_table.object_id,
        stored_events_table.event_name,
        stored_events_table.object_table,
        stored_events_table.crud,
        stored_events_table.completion_state,
        stored_events_table.is_known_event,
        stored_events_table.activity_type,
        stored_events_table.analytics_action,
        stored_events_table.is_learner_write,
        stored_events_table.counts_as_activity,
        stored_events_table.cognitive_depth,
        stored_events_table.social_breadth,
        stored_events_table.created_at,
        stored_events_table.course_week_number as raw_week_number,
        stored_events_table.source_loaded_at,
        stored_events_table.session_started_at as stored_session_started_at,
        stored_events_table.created_at < first_new_events.first_new_at as is_context

    from {{ this }} as stored_events_table
    inner join first_new_events
        on stored_events_table.learner_course_id = first_new_events.learner_course_id
    left join described
        on stored_events_table.log_event_id = described.log_event_id
    where
        stored_events_table.created_at
        >= {{ add_seconds('first_new_events.first_new_at', -session_gap_seconds) }}
        and described.log_event_id is null

),

events_to_sessionize as (

    select * from described
    union all
    select * from stored_events

),

{% else %}

events_to_sessionize as (

    select * from described

),

{% endif %}

-- The windows sort only the keys they need, not whole events: at ten million
-- events the two sorts of wide rows cost more than joining the rest back. They
-- partition by the integer ids of the learner-course (one to one with
-- learner_course_id): cheaper to sort than the text key.
session_keys as (

    select
        log_event_id,
        user_id,
        course_id,
        created_at,
        stored_session_started_at

    from events_to_sessionize

),

gaps as (

    select
        *,
        {{ seconds_between(
            'lag(created_at) over (partition by user_id, course_id order by created_at, log_event_id)',
            'created_at'
        ) }} as seconds_since_previous

    from session_keys

),

flagged as (

    select
        *,
        coalesce(seconds_since_previous > {{ session_gap_seconds }}, true) as is_session_start

    from gaps

),

sessions as (

    select
        log_event_id,
        seconds_since_previous,
        is_session_start,
        -- The start of the session an event belongs to: its latest session
        -- start so far. A context event carries the true start of a session
        -- that began before the window. A running max in the lag's order:
        -- no third sort by session.
        max(
            case when is_session_start then coalesce(stored_session_started_at, created_at) end
        ) over (
            partition by user_id, course_id
            order by created_at, log_event_id
            rows between unbounded preceding and current row
        ) as session_started_at

    from flagged

),

sessionized as (

    select
        events_to_sessionize.*,
        sessions.seconds_since_previous,
        sessions.is_session_start,
        sessions.session_started_at

    from events_to_sessionize
    inner join sessions
        on events_to_sessionize.log_event_id = sessions.log_event_id
    where not events_to_sessionize.is_context

),

final as (

    select
        ---------- ids
        log_event_id,
        learner_course_id,
        {{ composite_key(['learner_course_id', 'case when raw_week_number < 1 then 1 else raw_week_number end']) }}
            as learner_week_id,
        learner_id,
        user_id,
        course_id,
        course_module_id,
        object_id,
        ---------- strings
        event_name,
        object_table,
        crud,
        activity_type,
        analytics_action,
        ---------- numerics
        -- Activity between enrolment and the course start counts in week 1.
        case when raw_week_number < 1 then 1 else raw_week_number end as course_week_number,
        completion_state,
        cognitive_depth,
        social_breadth,
        case when is_session_start then 0 else seconds_since_previous end
            as seconds_since_previous_event,
        ---------- booleans
        is_known_event,
        is_learner_write,
        counts_as_activity,
        is_session_start,
        ---------- timestamps
        created_at,
        cast(created_at as date) as event_date,
        session_started_at,
        source_loaded_at,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
            as loaded_at

    from sessionized

)

select * from final
