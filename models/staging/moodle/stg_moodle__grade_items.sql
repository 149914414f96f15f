with

source as (

    select * from {{ source('moodle', 'grade_items') }}

),

renamed as (

    select
        ---------- ids
        id as grade_item_id,
        courseid as course_id,
        iteminstance as item_instance_id,
        categoryid as grade_category_id,
        ---------- strings
        itemname as grade_item_name,
        itemtype as item_type,
        itemmodule as item_module,
        idnumber as grade_item_id_number,
        ---------- numerics
        itemnumber as item_number,
        gradetype as grade_type,
        cast(grademin as {{ type_double() }}) as grade_min,
        cast(grademax as {{ type_double() }}) as grade_max,
        cast(gradepass as {{ type_double() }}) as grade_pass,
        ---------- booleans
        hidden = 1 as is_hidden,
        ---------- timestamps
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at

    from source

)

select * from renamed
