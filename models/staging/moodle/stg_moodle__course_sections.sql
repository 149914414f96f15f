with

source as (

    select * from {{ source('moodle', 'course_sections') }}

),

renamed as (

    select
        ---------- ids
        id as course_section_id,
        course as course_id,
        ---------- strings
        name as section_name,
        sequence as course_module_sequence,
        ---------- numerics
        section as section_number,
        ---------- booleans
        visible = 1 as is_visible

    from source

)

select * from renamed
