with

source as (

    select * from {{ source('moodle', 'assign_grades') }}

),

renamed as (

    select
        ---------- ids
        id as assignment_grade_id,
        assignment as assignment_id,
        userid as user_id,
        grader as grader_user_id,
        ---------- numerics
        cast(grade as {{ type_double() }}) as grade,
        attemptnumber as attempt_number,
        ---------- timestamps
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at,
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
