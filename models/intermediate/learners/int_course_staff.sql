with

role_assignments as (

    select * from {{ ref('stg_moodle__role_assignments') }}

),

roles as (

    select * from {{ ref('stg_moodle__roles') }}

),

contexts as (

    select * from {{ ref('stg_moodle__contexts') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

course_staff as (

    select
        role_assignments.user_id,
        contexts.context_instance_id as course_id,
        roles.role_short_name,
        role_assignments.assigned_at

    from role_assignments
    inner join contexts
        on role_assignments.context_id = contexts.context_id
    inner join roles
        on role_assignments.role_id = roles.role_id
    inner join courses
        on contexts.context_instance_id = courses.course_id
    where
        contexts.context_level = 50
        and roles.role_short_name in {{ sql_list(var('staff_role_shortnames')) }}

),

final as (

    select
        ---------- ids
        {{ composite_key(['user_id', 'course_id', 'role_short_name']) }} as course_staff_role_id,
        {{ pseudonymous_id('user_id') }} as staff_id,
        user_id,
        course_id,
        ---------- strings
        role_short_name,
        ---------- booleans
        role_short_name = 'editingteacher' as is_editing_teacher,
        ---------- timestamps
        min(assigned_at) as assigned_at

    from course_staff
    group by user_id, course_id, role_short_name

)

select * from final
