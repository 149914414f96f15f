with

source as (

    select * from {{ source('moodle', 'course_modules_completion') }}

),

renamed as (

    select
        ---------- ids
        id as activity_completion_id,
        coursemoduleid as course_module_id,
        userid as user_id,
        overrideby as overridden_by_user_id,
        ---------- strings
        {{ decode('completionstate', completion_state_names()) }} as completion_state_name,
        ---------- numerics
        completionstate as completion_state,
        ---------- booleans
        completionstate in (1, 2) as is_complete,
        ---------- timestamps
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
