with

source as (

    select * from {{ source('moodle', 'event') }}

),

renamed as (

    select
        ---------- ids
        id as calendar_event_id,
        courseid as course_id,
        userid as user_id,
        instance as instance_id,
        categoryid as category_id,
        ---------- strings
        name as calendar_event_name,
        eventtype as event_type,
        modulename as module_name,
        component,
        ---------- numerics
        type as event_kind,
        ---------- booleans
        visible = 1 as is_visible,
        ---------- timestamps
        {{ epoch_to_timestamp('timestart', zero_is_null=true) }} as starts_at,
        {{ epoch_to_timestamp('timesort', zero_is_null=true) }} as sort_at

    from source

)

select * from renamed
