with

role_assignments as (

    select * from {{ ref('stg_moodle__role_assignments') }}

),

contexts as (

    select * from {{ ref('stg_moodle__contexts') }}

),

roles as (

    select * from {{ ref('stg_moodle__roles') }}

),

final as (

    select
        ---------- ids
        role_assignments.role_assignment_id,
        role_assignments.user_id,
        contexts.context_instance_id as course_id,
        ---------- strings
        roles.role_short_name,
        ---------- timestamps
        role_assignments.assigned_at

    from role_assignments
    inner join contexts using (context_id)
    inner join roles using (role_id)
    where contexts.context_level = 50

)

select * from final
