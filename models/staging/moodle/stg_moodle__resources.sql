with

source as (

    select * from {{ source('moodle', 'resource') }}

),

renamed as (

    select
        ---------- ids
        id as resource_id,
        course as course_id,
        ---------- strings
        name as resource_name

    from source

)

select * from renamed
