with

source as (

    select * from {{ source('moodle', 'user_enrolments') }}

),

renamed as (

    select
        ---------- ids
        id as user_enrolment_id,
        enrolid as enrolment_method_id,
        userid as user_id,
        modifierid as modified_by_user_id,
        ---------- booleans
        status = 1 as is_suspended,
        ---------- timestamps
        {{ epoch_to_timestamp('timestart', zero_is_null=true) }} as starts_at,
        case when timeend > 0 and timeend < 2147483647 then {{ epoch_to_timestamp('timeend') }} end as ends_at,
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at,
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
