with

source as (

    select * from {{ source('moodle', 'grade_grades') }}

),

renamed as (

    select
        ---------- ids
        id as grade_id,
        itemid as grade_item_id,
        userid as user_id,
        usermodified as modified_by_user_id,
        ---------- numerics
        cast(rawgrade as {{ type_double() }}) as raw_grade,
        cast(finalgrade as {{ type_double() }}) as final_grade,
        ---------- booleans
        overridden > 0 as is_overridden,
        excluded > 0 as is_excluded,
        hidden > 0 as is_hidden,
        ---------- timestamps
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at,
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
