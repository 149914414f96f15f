with

source as (

    select * from {{ source('moodle', 'logstore_standard_log') }}

),

renamed as (

    select
        ---------- ids
        id as log_event_id,
        userid as user_id,
        courseid as course_id,
        relateduserid as related_user_id,
        realuserid as real_user_id,
        contextid as context_id,
        contextinstanceid as context_instance_id,
        objectid as object_id,
        ---------- strings
        eventname as event_name,
        component,
        action as event_action,
        target as event_target,
        objecttable as object_table,
        crud,
        {{ decode('crud', crud_names()) }} as crud_name,
        {{ decode('edulevel', education_level_names()) }} as education_level_name,
        {{ decode('contextlevel', context_level_names()) }} as context_level_name,
        lower(origin) as origin,
        ip as ip_address,
        other,
        ---------- numerics
        edulevel as education_level,
        contextlevel as context_level,
        -- Read only where the key appears: a regular expression on every row
        -- of a large log costs more than all the other columns together.
        case
            when other like '%completionstate%'
                then cast({{ other_field('other', 'completionstate') }} as integer)
        end as completion_state,
        ---------- booleans
        anonymous = 1 as is_anonymous,
        realuserid is not null and realuserid <> userid as is_logged_in_as,
        ---------- timestamps
        {{ epoch_to_timestamp('timecreated') }} as created_at

    from source

)

select * from renamed
