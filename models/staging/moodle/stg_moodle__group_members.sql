with

source as (

    select * from {{ source('moodle', 'groups_members') }}

),

renamed as (

    select
        ---------- ids
        id as group_member_id,
        groupid as group_id,
        userid as user_id,
        ---------- timestamps
        {{ epoch_to_timestamp('timeadded', zero_is_null=true) }} as added_at

    from source

)

select * from renamed
