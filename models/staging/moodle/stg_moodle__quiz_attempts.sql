with

source as (

    select * from {{ source('moodle', 'quiz_attempts') }}

),

renamed as (

    select
        ---------- ids
        id as quiz_attempt_id,
        quiz as quiz_id,
        userid as user_id,
        ---------- strings
        state as attempt_state,
        ---------- numerics
        attempt as attempt_number,
        cast(sumgrades as {{ type_double() }}) as marks,
        ---------- booleans
        preview = 1 as is_preview,
        ---------- timestamps
        {{ epoch_to_timestamp('timestart', zero_is_null=true) }} as started_at,
        {{ epoch_to_timestamp('timefinish', zero_is_null=true) }} as finished_at

    from source

)

select * from renamed
