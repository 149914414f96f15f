{#- Every number is read so that no single row can stop a build: ids and times
    through safe casts when the engine holds them as text, times through a range
    check, the completion state in `other` through a safe cast. What cannot be
    read is null here, with a flag, and int_log_events_classified quarantines it. -#}
{%- set column_types = source_column_types(source('moodle', 'logstore_standard_log')) -%}

with

source as (

    select * from {{ source('moodle', 'logstore_standard_log') }}

),

read_numbers as (

    select
        *,
        {%- for column in ['id', 'userid', 'courseid', 'relateduserid', 'realuserid', 'contextid',
                           'contextinstanceid', 'objectid', 'edulevel', 'contextlevel', 'anonymous',
                           'timecreated'] %}
        {{ source_integer(column, column_types) }} as {{ column }}_number,
        {%- endfor %}
        -- Read only where the key appears: a regular expression on every row
        -- of a large log costs more than all the other columns together.
        case
            when other like '%completionstate"%' then {{ other_field('other', 'completionstate') }}
        end as completion_state_text

    from source

),

renamed as (

    select
        ---------- ids
        id_number as log_event_id,
        userid_number as user_id,
        courseid_number as course_id,
        relateduserid_number as related_user_id,
        realuserid_number as real_user_id,
        contextid_number as context_id,
        contextinstanceid_number as context_instance_id,
        objectid_number as object_id,
        ---------- strings
        eventname as event_name,
        component,
        action as event_action,
        target as event_target,
        objecttable as object_table,
        crud,
        {{ decode('crud', crud_names()) }} as crud_name,
        {{ decode('edulevel_number', education_level_names()) }} as education_level_name,
        {{ decode('contextlevel_number', context_level_names()) }} as context_level_name,
        lower(origin) as origin,
        ip as ip_address,
        other,
        ---------- numerics
        edulevel_number as education_level,
        contextlevel_number as context_level,
        -- Moodle's completion states are 0 to 3; anything else is not read.
        case
            when {{ safe_integer('completion_state_text') }} between 0 and 3
                then cast({{ safe_integer('completion_state_text') }} as integer)
        end as completion_state,
        ---------- booleans
        anonymous_number = 1 as is_anonymous,
        realuserid_number is not null and realuserid_number <> userid_number as is_logged_in_as,
        ---------- timestamps
        {{ safe_epoch_to_timestamp('timecreated_number') }} as created_at

    from read_numbers

),

-- Why a row cannot be read, the first problem found; null when it reads. A
-- time that cannot be read is judged with the times (int_log_events_classified).
checked as (

    select
        *,
        case
            when log_event_id is null or user_id is null or user_id < 0 or course_id < 0
                then 'invalid_id'
            when event_name is null or trim(event_name) = '' then 'invalid_event'
            when crud_name is null or education_level_name is null or context_level_name is null
                then 'invalid_code'
            when context_id is null or (context_level = 70 and coalesce(context_instance_id, 0) <= 0)
                then 'missing_context'
            -- `other` names a completion state that is not one (a word, a
            -- fraction, a number out of range, a value cut off).
            when
                other like '%completionstate"%' and completion_state is null
                then 'unreadable_other'
        end as unreadable_reason

    from renamed

)

select * from checked
