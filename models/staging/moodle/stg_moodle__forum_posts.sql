with

source as (

    select * from {{ source('moodle', 'forum_posts') }}

),

renamed as (

    select
        ---------- ids
        id as post_id,
        discussion as discussion_id,
        parent as parent_post_id,
        userid as user_id,
        ---------- strings
        subject,
        ---------- numerics
        wordcount as word_count,
        ---------- booleans
        parent <> 0 as is_reply,
        deleted = 1 as is_deleted,
        privatereplyto <> 0 as is_private_reply,
        ---------- timestamps
        {{ epoch_to_timestamp('created', zero_is_null=true) }} as created_at,
        {{ epoch_to_timestamp('modified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
