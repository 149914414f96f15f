with

source as (

    select * from {{ source('moodle', 'course_modules') }}

),

renamed as (

    select
        ---------- ids
        id as course_module_id,
        course as course_id,
        module as module_id,
        instance as instance_id,
        section as course_section_id,
        ---------- strings
        idnumber as course_module_id_number,
        ---------- numerics
        completion as completion_tracking,
        completiongradeitemnumber as completion_grade_item_number,
        ---------- booleans
        visible = 1 as is_visible,
        completionview = 1 as requires_view_to_complete,
        completionpassgrade = 1 as requires_pass_grade_to_complete,
        deletioninprogress = 1 as is_being_deleted,
        ---------- timestamps
        {{ epoch_to_timestamp('added', zero_is_null=true) }} as added_at,
        {{ epoch_to_timestamp('completionexpected', zero_is_null=true) }} as completion_expected_at

    from source

)

select * from renamed
