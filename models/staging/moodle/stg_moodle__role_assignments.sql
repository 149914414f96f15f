with

source as (

    select * from {{ source('moodle', 'role_assignments') }}

),

renamed as (

    select
        ---------- ids
        id as role_assignment_id,
        roleid as role_id,
        contextid as context_id,
        userid as user_id,
        modifierid as modified_by_user_id,
        itemid as enrolment_item_id,
        ---------- strings
        component as assigned_by_component,
        ---------- timestamps
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as assigned_at

    from source

)

select * from renamed
