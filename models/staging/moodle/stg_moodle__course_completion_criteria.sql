with

source as (

    select * from {{ source('moodle', 'course_completion_criteria') }}

),

renamed as (

    select
        ---------- ids
        id as criterion_id,
        course as course_id,
        moduleinstance as course_module_id,
        ---------- strings
        module as module_name,
        {{ decode('criteriatype', completion_criteria_names()) }} as criterion_type_name,
        ---------- numerics
        criteriatype as criterion_type,
        cast(gradepass as {{ type_double() }}) as grade_pass

    from source

)

select * from renamed
