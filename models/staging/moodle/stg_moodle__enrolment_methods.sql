with

source as (

    select * from {{ source('moodle', 'enrol') }}

),

renamed as (

    select
        ---------- ids
        id as enrolment_method_id,
        courseid as course_id,
        roleid as default_role_id,
        ---------- strings
        enrol as enrolment_plugin,
        name as enrolment_method_name,
        cost,
        currency,
        ---------- numerics
        sortorder as sort_order,
        ---------- booleans
        status = 0 as is_enabled,
        ---------- timestamps
        {{ epoch_to_timestamp('enrolstartdate', zero_is_null=true) }} as enrolment_opens_at,
        {{ epoch_to_timestamp('enrolenddate', zero_is_null=true) }} as enrolment_closes_at

    from source

)

select * from renamed
