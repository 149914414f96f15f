with

source as (

    select * from {{ source('moodle', 'course_categories') }}

),

renamed as (

    select
        ---------- ids
        id as category_id,
        parent as parent_category_id,
        ---------- strings
        name as category_name,
        idnumber as category_id_number,
        path as category_path,
        ---------- numerics
        depth as category_depth,
        ---------- booleans
        visible = 1 as is_visible

    from source

)

select * from renamed
