with

course_groups as (

    select * from {{ ref('stg_moodle__groups') }}

),

group_members as (

    select * from {{ ref('stg_moodle__group_members') }}

),

-- Each member of a group with every member of the same group (themselves
-- included): who may see whom in separate groups mode.
final as (

    select distinct
        ---------- ids
        course_groups.course_id,
        members.user_id,
        peers.user_id as peer_user_id

    from group_members as members
    inner join group_members as peers using (group_id)
    inner join course_groups using (group_id)

)

select * from final
