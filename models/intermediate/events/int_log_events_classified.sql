{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        **incremental_settings(unique_key='log_event_id'),
    )
}}

{%- set newest_plausible_time -%}
    (
        select coalesce(max(previous_run.created_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }} as previous_run
        where
            previous_run.created_at
            <= {{ add_seconds(now_utc(), var('future_event_tolerance_days') * 86400) }}
    )
{%- endset %}

{% set is_new_log_event -%}
log_event_id > {{ incremental_watermark('log_event_id', empty_value=0) }}
or created_at
>= {{ add_seconds(newest_plausible_time, -var('incremental_lookback_days') * 86400) }}
{%- endset %}

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

new_log_events as (

    select *
    from log_events
    {% if is_incremental() and replaces_whole_courses() %}
    -- Every row of each course with a new row: the batch replaces whole courses.
    where coalesce(course_id, 0) in (
        select coalesce(course_id, 0) from log_events
        where {{ is_new_log_event | indent(12) }}
    )
    {% elif is_incremental() %}
    -- New ids, plus a lookback window of time for rows written late. The
    -- window ends at the newest plausible time: one row stamped years ahead
    -- (a clock error) must not move it past every row still to come.
    where
        {{ is_new_log_event | indent(8) }}
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
    left join repeated_ids
        on new_log_events.log_event_id = repeated_ids.log_event_id
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
    inner join repeated_ids
        on new_log_events.log_event_id = repeated_ids.log_event_id

),

judged as (

    select
        numbered.*,
        course_learners.learner_course_id,
        case
            when
                numbered.created_at < cast('2000-01-01' as {{ dbt.type_timestamp() }})
                or numbered.created_at > {{ add_seconds(now_utc(), var('future_event_tolerance_days') * 86400) }}
                then 'invalid_time'
            when numbered.user_id > 0 and users.user_id is null then 'unknown_user'
            when numbered.course_id > 0 and courses.course_id is null then 'unknown_course'
            when numbered.created_at > {{ as_of() }} then 'after_as_of'
            when numbered.user_id = 0 then 'not_logged_in'
            when numbered.is_anonymous then 'anonymous'
            when numbered.is_logged_in_as then 'logged_in_as'
            when coalesce(numbered.course_id, 0) = 0 or courses.is_site_front_page then 'site_level'
            when course_learners.learner_course_id is null and users.is_deleted then 'deleted_user'
            when course_learners.learner_course_id is null then 'not_a_learner'
            when
                numbered.created_at < course_learners.enrolled_at
                or numbered.created_at >= course_learners.enrolment_ends_at
                then 'outside_enrolment'
            when numbered.created_at >= course_learners.course_ends_at then 'after_course_end'
            else 'learner_event'
        end as reason

    from numbered
    left join users
        on numbered.user_id = users.user_id
    left join courses
        on numbered.course_id = courses.course_id
    left join course_learners
        on
            numbered.user_id = course_learners.user_id
            and numbered.course_id = course_learners.course_id
    where numbered.copy_number = 1

),

final as (

    select
        ---------- ids
        log_event_id,
        user_id,
        course_id,
        learner_course_id,
        case when context_level = 70 then context_instance_id end as course_module_id,
        object_id,
        ---------- strings
        event_name,
        component,
        object_table,
        crud,
        origin,
        case
            when reason = 'learner_event' then 'used'
            when reason in ('invalid_time', 'unknown_user', 'unknown_course', 'outside_enrolment')
                then 'quarantined'
            else 'excluded'
        end as disposition,
        reason,
        ---------- numerics
        education_level,
        completion_state,
        copies,
        ---------- timestamps
        created_at,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
            as loaded_at

    from judged
    -- Rows after the as-of moment are not known yet: a later run takes them.
    where reason <> 'after_as_of'

)

select * from final
