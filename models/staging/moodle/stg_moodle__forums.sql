with

source as (

    select * from {{ source('moodle', 'forum') }}

),

renamed as (

    select
        ---------- ids
        id as forum_id,
        course as course_id,
        ---------- strings
        name as forum_name,
        type as forum_type,
        ---------- timestamps
        {{ epoch_to_timestamp('duedate', zero_is_null=true) }} as due_at,
        {{ epoch_to_timestamp('cutoffdate', zero_is_null=true) }} as cut_off_at

    from source

)

select * from renamed
