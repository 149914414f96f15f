with

source as (

    select * from {{ source('moodle', 'feedback') }}

),

renamed as (

    select
        ---------- ids
        id as feedback_id,
        course as course_id,
        ---------- strings
        name as feedback_name,
        ---------- booleans
        anonymous = 1 as is_anonymous,
        ---------- timestamps
        {{ epoch_to_timestamp('timeopen', zero_is_null=true) }} as opens_at,
        {{ epoch_to_timestamp('timeclose', zero_is_null=true) }} as closes_at

    from source

)

select * from renamed
