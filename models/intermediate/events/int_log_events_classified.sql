{{ config(**incremental_settings(unique_key='log_event_id')) }}

{%- set session_gap_seconds = var('session_gap_minutes') * 60 %}

{%- set newest_plausible_time -%}
    (
        select coalesce(max(previous_run.created_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }} as previous_run
        where
            previous_run.created_at
            <= {{ add_seconds(now_utc(), var('future_event_tolerance_days') * 86400) }}
    )
{%- endset %}

{#- New rows, and the rows of every context Moodle edited since this model's
    last run (reprocessed_contexts). -#}
{% set is_new_log_event -%}
log_event_id > {{ incremental_watermark('log_event_id', empty_value=0) }}
or created_at
>= {{ add_seconds(newest_plausible_time, -var('incremental_lookback_days') * 86400) }}
or {{ is_in_edited_context('log_events') }}
{%- endset %}

-- depends_on: {{ ref('int_event_contexts_fingerprinted') }}

with

log_events as (

    select * from {{ ref('stg_moodle__log_events') }}

),

users as (

    select * from {{ ref('stg_moodle__users') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

event_catalogue as (

    select * from {{ ref('moodle_event_catalogue') }}

),

new_log_events as (

    select
        log_event_id,
        user_id,
        course_id,
        case when context_level = 70 then context_instance_id end as course_module_id,
        object_id,
        event_name,
        component,
        object_table,
        crud,
        education_level,
        completion_state,
        related_user_id,
        unreadable_reason,
        is_anonymous,
        is_logged_in_as,
        created_at

    from log_events
    -- A row without a readable id is quarantined as a count (int_as_of_moment).
    where log_event_id is not null
    {% if is_incremental() and replaces_whole_courses() %}
    -- Every row of each course with a new row: the batch replaces whole courses.
    and coalesce(course_id, 0) in (
        select coalesce(course_id, 0) from log_events
        where {{ is_new_log_event | indent(12) }}
    )
    {% elif is_incremental() %}
    -- New ids, plus a lookback window of time for rows written late. The
    -- window ends at the newest plausible time: one row stamped years ahead
    -- (a clock error) must not move it past every row still to come.
    and (
        {{ is_new_log_event | indent(8) }}
    )
    {% endif %}

),

-- A site's log has one row per id; an export glued together twice does not.
-- Copies are numbered only for the ids that have them: a window over the
-- whole log would sort every row.
repeated_ids as (

    select
        log_event_id,
        count(*) as copies

    from new_log_events
    group by log_event_id
    having count(*) > 1

),

numbered as (

    select
        new_log_events.*,
        cast(1 as {{ dbt.type_bigint() }}) as copy_number,
        cast(1 as {{ dbt.type_bigint() }}) as copies

    from new_log_events
    left join repeated_ids using (log_event_id)
    where repeated_ids.log_event_id is null

    union all

    select
        new_log_events.*,
        row_number() over (
            partition by new_log_events.log_event_id
            order by new_log_events.created_at, new_log_events.event_name, new_log_events.user_id
        ) as copy_number,
        repeated_ids.copies

    from new_log_events
    inner join repeated_ids using (log_event_id)

),

judged as (

    select
        numbered.*,
        course_learners.week_one_starts_at,
        course_learners.user_id is not null as is_learner_course,
        -- Times first: a row after the as-of moment waits for a later run
        -- whatever else it holds (int_as_of_moment counts it as pending).
        case
            when
                numbered.created_at is null
                or numbered.created_at < cast('2000-01-01' as {{ dbt.type_timestamp() }})
                or numbered.created_at > {{ add_seconds(now_utc(), var('future_event_tolerance_days') * 86400) }}
                then 'invalid_time'
            when numbered.created_at > {{ as_of() }} then 'after_as_of'
            when numbered.unreadable_reason is not null then numbered.unreadable_reason
            when numbered.user_id > 0 and users.user_id is null then 'unknown_user'
            when numbered.course_id > 0 and courses.course_id is null then 'unknown_course'
            when numbered.related_user_id > 0 and related_users.user_id is null then 'unknown_related_user'
            when numbered.user_id = 0 then 'not_logged_in'
            when numbered.is_anonymous then 'anonymous'
            when numbered.is_logged_in_as then 'logged_in_as'
            when coalesce(numbered.course_id, 0) = 0 or courses.is_site_front_page then 'site_level'
            when course_learners.user_id is null and users.is_deleted then 'deleted_user'
            when course_learners.user_id is null then 'not_a_learner'
            when
                numbered.created_at < course_learners.enrolled_at
                or numbered.created_at >= course_learners.enrolment_ends_at
                then 'outside_enrolment'
            when numbered.created_at >= course_learners.course_ends_at then 'after_course_end'
            else 'learner_event'
        end as reason

    from numbered
    left join users using (user_id)
    left join users as related_users
        on numbered.related_user_id = related_users.user_id
    left join courses using (course_id)
    left join course_learners
        on
            numbered.user_id = course_learners.user_id
            and numbered.course_id = course_learners.course_id
    where numbered.copy_number = 1

),

-- A learner's own events are described from the event catalogue; events it
-- does not know fall back on Moodle's own codes (component, crud, education
-- level). Rows after the as-of moment are not known yet: a later run takes them.
described as (

    select
        judged.*,
        event_catalogue.cognitive_depth,
        event_catalogue.social_breadth,
        judged.reason = 'learner_event' as is_used,
        event_catalogue.event_name is not null as is_known_event,
        coalesce(
            event_catalogue.activity_type,
            case when substring(judged.component, 1, 4) = 'mod_' then substring(judged.component, 5) else 'course' end
        ) as activity_type,
        coalesce(
            event_catalogue.analytics_action,
            case when judged.crud = 'r' then 'view' else 'write' end
        ) as analytics_action,
        coalesce(
            event_catalogue.is_learner_write,
            judged.crud in ('c', 'u') and judged.education_level = 2
        ) as is_learner_write,
        coalesce(event_catalogue.counts_as_activity, judged.education_level = 2) as counts_as_activity

    from judged
    left join event_catalogue using (event_name)
    where judged.reason <> 'after_as_of'

),

-- What the aggregates count, as flags: the table keeps one text column per
-- row (the event name) besides the disposition, so writing it stays cheap.
classified as (

    select
        log_event_id,
        user_id,
        course_id,
        course_module_id,
        event_name,
        case
            when is_used then 'used'
            when reason in {{ sql_list(log_quarantine_reasons()) }} then 'quarantined'
            else 'excluded'
        end as disposition,
        reason,
        copies,
        created_at,
        is_learner_course,
        case when is_used then is_known_event end as is_known_event,
        case when is_used then counts_as_activity end as counts_as_activity,
        case when is_used then crud = 'r' end as is_read_event,
        case when is_used then is_learner_write end as is_learner_write,
        case
            when is_used then analytics_action in ('submit', 'resubmit', 'attempt_submit', 'post', 'discussion_create')
        end as is_hand_in,
        case
            when is_used then activity_type = 'assign' and analytics_action in ('submit', 'resubmit')
        end as is_assignment_submission,
        case when is_used then analytics_action = 'attempt_submit' end as is_quiz_attempt_submission,
        case when is_used then analytics_action = 'discussion_create' end as is_discussion_start,
        case
            when is_used then activity_type = 'completion' and coalesce(completion_state in (1, 2), false)
        end as is_activity_completion,
        case when is_used and object_table = 'forum_posts' then object_id end as forum_post_id,
        case when is_used then cognitive_depth end as cognitive_depth,
        case when is_used then social_breadth end as social_breadth,
        case
            when is_used
                then cast(floor({{ seconds_between('week_one_starts_at', 'created_at') }} / 86400.0) as integer) + 1
        end as course_day_number,
        false as is_context

    from described

),

{% if is_incremental() %}

-- Sessions are found again from each learner-course's first row of this run
-- on (whatever became of the row: a late event can join or split sessions);
-- the stored events one session gap before it give the context.
first_new_rows as (

    select
        user_id,
        course_id,
        min(created_at) as first_new_at

    from classified
    where is_learner_course
    group by user_id, course_id

),

stored_events as (

    select
        stored_rows.log_event_id,
        stored_rows.user_id,
        stored_rows.course_id,
        stored_rows.course_module_id,
        stored_rows.event_name,
        stored_rows.disposition,
        stored_rows.reason,
        stored_rows.copies,
        stored_rows.created_at,
        true as is_learner_course,
        stored_rows.is_known_event,
        stored_rows.counts_as_activity,
        stored_rows.is_read_event,
        stored_rows.is_learner_write,
        stored_rows.is_hand_in,
        stored_rows.is_assignment_submission,
        stored_rows.is_quiz_attempt_submission,
        stored_rows.is_discussion_start,
        stored_rows.is_activity_completion,
        stored_rows.forum_post_id,
        stored_rows.cognitive_depth,
        stored_rows.social_breadth,
        stored_rows.course_day_number,
        stored_rows.created_at < first_new_rows.first_new_at as is_context

    from {{ this }} as stored_rows
    inner join first_new_rows using (user_id, course_id)
    left join classified using (log_event_id)
    where
        stored_rows.disposition = 'used'
        and stored_rows.created_at >= {{ add_seconds('first_new_rows.first_new_at', -session_gap_seconds) }}
        and classified.log_event_id is null

),

rows_to_write as (

    select * from classified
    union all
    select * from stored_events

),

{% else %}

rows_to_write as (

    select * from classified

),

{% endif %}

-- A session is a learner's run of events in a course with no gap longer
-- than session_gap_minutes: an event starts one when it comes more than the
-- gap after the learner's previous event. The window sorts only the keys of
-- the used rows (integers and a time), then the gaps join back: sorting whole
-- rows costs more. (int_learner_sessions groups events into sessions.)
session_keys as (

    select
        log_event_id,
        user_id,
        course_id,
        created_at,
        is_context

    from rows_to_write
    where disposition = 'used'

),

gaps as (

    select
        log_event_id,
        is_context,
        {{ seconds_between(
            'lag(created_at) over (partition by user_id, course_id order by created_at, log_event_id)',
            'created_at'
        ) }} as seconds_since_previous

    from session_keys

),

learner_events as (

    select
        log_event_id,
        coalesce(seconds_since_previous > {{ session_gap_seconds }}, true) as is_session_start,
        case
            when seconds_since_previous <= {{ session_gap_seconds }} then seconds_since_previous else 0
        end as seconds_since_previous_event

    from gaps
    where not is_context

),

final as (

    select
        ---------- ids
        rows_to_write.log_event_id,
        rows_to_write.user_id,
        rows_to_write.course_id,
        rows_to_write.course_module_id,
        rows_to_write.forum_post_id,
        ---------- strings
        rows_to_write.event_name,
        rows_to_write.disposition,
        rows_to_write.reason,
        ---------- numerics
        rows_to_write.copies,
        rows_to_write.course_day_number,
        -- Activity between enrolment and the course start counts in week 1.
        case
            when rows_to_write.course_day_number < 1 then 1
            else cast(floor((rows_to_write.course_day_number - 1) / 7.0) as integer) + 1
        end as course_week_number,
        rows_to_write.cognitive_depth,
        rows_to_write.social_breadth,
        learner_events.seconds_since_previous_event,
        ---------- booleans
        rows_to_write.is_known_event,
        rows_to_write.counts_as_activity,
        rows_to_write.is_read_event,
        rows_to_write.is_learner_write,
        rows_to_write.is_hand_in,
        rows_to_write.is_assignment_submission,
        rows_to_write.is_quiz_attempt_submission,
        rows_to_write.is_discussion_start,
        rows_to_write.is_activity_completion,
        learner_events.is_session_start,
        ---------- timestamps
        rows_to_write.created_at,
        {{ run_started_timestamp() }} as loaded_at

    from rows_to_write
    left join learner_events using (log_event_id)
    where not rows_to_write.is_context

)

select * from final
