with

activities as (

    select * from {{ ref('int_course_activities') }}

),

final as (

    select
        ---------- ids
        course_module_id as activity_id,
        course_id,
        ---------- strings
        module_name as activity_type,
        activity_name,
        {{ activity_url_path('module_name', 'course_module_id') }} as activity_url_path,
        ---------- numerics
        cast(section_number as integer) as section_number,
        cast(grade_max as {{ type_double() }}) as grade_max,
        cast(
            case when grade_max > 0 and grade_pass > 0 then grade_pass / grade_max end
            as {{ type_double() }}
        ) as pass_share,
        ---------- booleans
        is_visible,
        has_completion_tracking,
        grade_item_id is not null as is_graded,
        ---------- timestamps
        opens_at,
        due_at,
        cut_off_at,
        completion_expected_at

    from activities

)

select * from final
