with

role_holders as (

    select * from {{ ref('int_course_role_holders') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

final as (

    select
        ---------- ids
        {{ composite_key(['role_holders.user_id', 'role_holders.course_id', 'role_holders.role_short_name']) }}
            as course_staff_role_id,
        {{ pseudonymous_id('role_holders.user_id') }} as staff_id,
        role_holders.user_id,
        role_holders.course_id,
        ---------- strings
        role_holders.role_short_name,
        ---------- booleans
        role_holders.role_short_name = 'editingteacher' as is_editing_teacher,
        -- Separate groups: a teacher sees only the learners of their own groups,
        -- unless the role may access all groups.
        coalesce(courses.group_mode = 1, false)
        and role_holders.role_short_name not in {{ sql_list(var('all_groups_role_shortnames') or ['']) }}
            as is_limited_to_own_groups,
        ---------- timestamps
        min(role_holders.assigned_at) as assigned_at

    from role_holders
    inner join courses using (course_id)
    where role_holders.role_short_name in {{ sql_list(var('staff_role_shortnames')) }}
    group by role_holders.user_id, role_holders.course_id, role_holders.role_short_name, courses.group_mode

)

select * from final
