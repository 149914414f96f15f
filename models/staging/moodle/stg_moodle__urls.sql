with

source as (

    select * from {{ source('moodle', 'url') }}

),

renamed as (

    select
        ---------- ids
        id as url_id,
        course as course_id,
        ---------- strings
        name as url_name

    from source

)

select * from renamed
