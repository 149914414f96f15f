with

source as (

    select * from {{ source('moodle', 'assign_submission') }}

),

renamed as (

    select
        ---------- ids
        id as submission_id,
        assignment as assignment_id,
        userid as user_id,
        groupid as group_id,
        ---------- strings
        status as submission_status,
        ---------- numerics
        attemptnumber as attempt_number,
        ---------- booleans
        latest = 1 as is_latest_attempt,
        ---------- timestamps
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at,
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
