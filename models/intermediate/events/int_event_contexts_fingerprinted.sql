{{ config(**incremental_settings(unique_key='context_id')) }}

{#- What the incremental event models read besides the log, one row per
    context, with a fingerprint of the values they used and the run that last
    saw them change. Moodle edits the past (an enrolment moved, a user
    deleted, a course start moved, a role taken away, a due date changed):
    the incremental models take the events of every context changed since
    their own watermark again (is_in_edited_context, edited_learner_courses).
    Keep each fingerprint to the columns its readers use, no more: a column
    that changes with the as-of moment would reprocess contexts every run. -#}

{#- The settings and seed the event models judge and cut sessions by: one
    change and every log row is taken again, as --full-refresh would. -#}
{%- set seeds = graph.nodes.values() | selectattr('resource_type', 'equalto', 'seed') | list if execute else [] -%}
{%- set catalogue = seeds | selectattr('name', 'equalto', 'moodle_event_catalogue') | list -%}
{%- set settings_values = [
    'session_gap_minutes=' ~ var('session_gap_minutes'),
    'future_event_tolerance_days=' ~ var('future_event_tolerance_days'),
    'as_of=' ~ var('as_of'),
    'moodle_event_catalogue=' ~ catalogue | map(attribute='checksum') | map(attribute='checksum') | join(','),
] | join(';') -%}
{%- set settings_literal = "'" ~ settings_values | replace("'", "''") ~ "'" -%}
{{ report_changed_event_settings(settings_literal) }}

with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

users as (

    select * from {{ ref('stg_moodle__users') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

-- learner_course: what int_log_events_classified judges and numbers a
-- learner's events by, and the learner_id int_learner_sessions keeps. user
-- and course: what it judges other events by. activity: the due date
-- int_learner_weeks_aggregated times submissions by. settings: one row.
current_contexts as (

    select
        'learner_course' as context_scope,
        user_id,
        course_id,
        cast(0 as {{ dbt.type_bigint() }}) as course_module_id,
        {{ composite_key([
            "coalesce(" ~ dbt.safe_cast("enrolled_at", dbt.type_string()) ~ ", '')",
            "coalesce(" ~ dbt.safe_cast("enrolment_ends_at", dbt.type_string()) ~ ", '')",
            "coalesce(" ~ dbt.safe_cast("week_one_starts_at", dbt.type_string()) ~ ", '')",
            "coalesce(" ~ dbt.safe_cast("course_ends_at", dbt.type_string()) ~ ", '')",
            "learner_id",
        ]) }} as context_values

    from course_learners

    union all

    select
        'user' as context_scope,
        user_id,
        cast(0 as {{ dbt.type_bigint() }}) as course_id,
        cast(0 as {{ dbt.type_bigint() }}) as course_module_id,
        case when is_deleted then 'deleted' else 'present' end as context_values

    from users

    union all

    select
        'course' as context_scope,
        cast(0 as {{ dbt.type_bigint() }}) as user_id,
        course_id,
        cast(0 as {{ dbt.type_bigint() }}) as course_module_id,
        case when is_site_front_page then 'front_page' else 'course' end as context_values

    from courses

    union all

    select
        'activity' as context_scope,
        cast(0 as {{ dbt.type_bigint() }}) as user_id,
        course_id,
        course_module_id,
        coalesce({{ dbt.safe_cast("due_at", dbt.type_string()) }}, '') as context_values

    from activities

    union all

    select
        'settings' as context_scope,
        cast(0 as {{ dbt.type_bigint() }}) as user_id,
        cast(0 as {{ dbt.type_bigint() }}) as course_id,
        cast(0 as {{ dbt.type_bigint() }}) as course_module_id,
        {{ settings_literal }} as context_values

),

fingerprinted as (

    select
        {{ composite_key(['context_scope', 'user_id', 'course_id', 'course_module_id']) }} as context_id,
        context_scope,
        user_id,
        course_id,
        course_module_id,
        {{ dbt.hash('context_values') }} as context_fingerprint

    from current_contexts

),

{% if is_incremental() %}

-- A context gone from Moodle (a learner unenrolled, a user or course
-- deleted) stays, fingerprinted 'gone': its events change too.
compared as (

    select
        stored_contexts.changed_at as stored_changed_at,
        coalesce(fingerprinted.context_id, stored_contexts.context_id) as context_id,
        coalesce(fingerprinted.context_scope, stored_contexts.context_scope) as context_scope,
        coalesce(fingerprinted.user_id, stored_contexts.user_id) as user_id,
        coalesce(fingerprinted.course_id, stored_contexts.course_id) as course_id,
        coalesce(fingerprinted.course_module_id, stored_contexts.course_module_id) as course_module_id,
        coalesce(fingerprinted.context_fingerprint, 'gone') as context_fingerprint,
        coalesce(stored_contexts.context_fingerprint <> coalesce(fingerprinted.context_fingerprint, 'gone'), true)
            as is_changed

    from fingerprinted
    full outer join {{ this }} as stored_contexts
        on fingerprinted.context_id = stored_contexts.context_id

),

-- Spark overwrites whole courses: the batch holds every row of a course
-- with a changed row, the unchanged ones as they were.
rows_to_write as (

    select
        context_id,
        context_scope,
        user_id,
        course_id,
        course_module_id,
        context_fingerprint,
        case when is_changed then {{ run_started_timestamp() }} else stored_changed_at end as changed_at

    from compared
    {%- if replaces_whole_courses() %}
    where course_id in (select changed.course_id from compared as changed where changed.is_changed)
    {%- else %}
    where is_changed
    {%- endif %}

),

{% else %}

rows_to_write as (

    select
        *,
        {{ run_started_timestamp() }} as changed_at

    from fingerprinted

),

{% endif %}

final as (

    select
        ---------- ids
        context_id,
        user_id,
        course_id,
        course_module_id,
        ---------- strings
        context_scope,
        context_fingerprint,
        ---------- timestamps
        changed_at

    from rows_to_write

)

select * from final
