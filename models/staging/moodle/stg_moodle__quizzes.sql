with

source as (

    select * from {{ source('moodle', 'quiz') }}

),

renamed as (

    select
        ---------- ids
        id as quiz_id,
        course as course_id,
        ---------- strings
        name as quiz_name,
        ---------- numerics
        attempts as attempts_allowed,
        grademethod as grading_method,
        cast(sumgrades as {{ type_double() }}) as max_marks,
        cast(grade as {{ type_double() }}) as max_grade,
        ---------- timestamps
        {{ epoch_to_timestamp('timeopen', zero_is_null=true) }} as opens_at,
        {{ epoch_to_timestamp('timeclose', zero_is_null=true) }} as closes_at

    from source

)

select * from renamed
