with

source as (

    select * from {{ source('moodle', 'course') }}

),

renamed as (

    select
        ---------- ids
        id as course_id,
        category as category_id,
        originalcourseid as original_course_id,
        ---------- strings
        fullname as course_name,
        shortname as course_short_name,
        idnumber as course_id_number,
        format as course_format,
        ---------- numerics
        groupmode as group_mode,
        ---------- booleans
        format = 'site' as is_site_front_page,
        visible = 1 as is_visible,
        enablecompletion = 1 as has_completion_tracking,
        groupmodeforce = 1 as is_group_mode_forced,
        ---------- timestamps
        {{ epoch_to_timestamp('startdate', zero_is_null=true) }} as starts_at,
        {{ epoch_to_timestamp('enddate', zero_is_null=true) }} as ends_at,
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at

    from source

)

select * from renamed
