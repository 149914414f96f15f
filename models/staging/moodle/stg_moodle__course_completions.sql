with

source as (

    select * from {{ source('moodle', 'course_completions') }}

),

renamed as (

    select
        ---------- ids
        id as course_completion_id,
        userid as user_id,
        course as course_id,
        ---------- timestamps
        {{ epoch_to_timestamp('timeenrolled', zero_is_null=true) }} as enrolled_at,
        {{ epoch_to_timestamp('timestarted', zero_is_null=true) }} as started_at,
        case when timecompleted > 0 then {{ epoch_to_timestamp('timecompleted') }} end as completed_at

    from source

)

select * from renamed
