with

source as (

    select * from {{ source('moodle', 'page') }}

),

renamed as (

    select
        ---------- ids
        id as page_id,
        course as course_id,
        ---------- strings
        name as page_name

    from source

)

select * from renamed
