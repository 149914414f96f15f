with

source as (

    select * from {{ source('moodle', 'groups') }}

),

renamed as (

    select
        ---------- ids
        id as group_id,
        courseid as course_id,
        ---------- strings
        name as group_name,
        idnumber as group_id_number,
        ---------- timestamps
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at

    from source

)

select * from renamed
