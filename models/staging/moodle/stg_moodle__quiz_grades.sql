with

source as (

    select * from {{ source('moodle', 'quiz_grades') }}

),

renamed as (

    select
        ---------- ids
        id as quiz_grade_id,
        quiz as quiz_id,
        userid as user_id,
        ---------- numerics
        cast(grade as {{ type_double() }}) as grade,
        ---------- timestamps
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
