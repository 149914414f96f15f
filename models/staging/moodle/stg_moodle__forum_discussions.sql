with

source as (

    select * from {{ source('moodle', 'forum_discussions') }}

),

renamed as (

    select
        ---------- ids
        id as discussion_id,
        forum as forum_id,
        course as course_id,
        userid as user_id,
        firstpost as first_post_id,
        ---------- strings
        name as discussion_name,
        ---------- booleans
        pinned = 1 as is_pinned,
        ---------- timestamps
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
