with

grades as (

    select * from {{ ref('stg_moodle__grades') }}

),

grade_items as (

    select * from {{ ref('stg_moodle__grade_items') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

scaled as (

    select
        grades.grade_id,
        grades.grade_item_id,
        grades.user_id,
        grade_items.course_id,
        grade_items.item_type,
        grade_items.item_module,
        grade_items.item_instance_id,
        grade_items.grade_item_name,
        grades.final_grade,
        grade_items.grade_min,
        grade_items.grade_max,
        grades.is_overridden,
        grades.is_excluded,
        grades.modified_at,
        {{ grade_range_share('grades.final_grade', 'grade_items') }} as raw_share,
        {{ pass_grade_share('grade_items') }} as set_pass_share

    from grades
    inner join grade_items using (grade_item_id)
    -- Only value grades (gradetype 1) are numbers on a scale from min to max.
    where grades.final_grade is not null and grade_items.grade_type = 1

),

final as (

    select
        ---------- ids
        scaled.grade_id,
        scaled.grade_item_id,
        scaled.user_id,
        scaled.course_id,
        activities.course_module_id,
        scaled.item_instance_id,
        ---------- strings
        scaled.item_type,
        scaled.item_module,
        scaled.grade_item_name,
        ---------- numerics
        scaled.final_grade,
        scaled.grade_min,
        scaled.grade_max,
        -- Grades outside min..max (extra credit, bad imports) are clipped here
        -- and listed in fct_grade_anomalies.
        cast(
            case
                when scaled.raw_share < 0 then 0
                when scaled.raw_share > 1 then 1
                else scaled.raw_share
            end as {{ type_double() }}
        ) as grade_share,
        cast(
            coalesce(scaled.set_pass_share, {{ var('default_pass_share') }}) as {{ type_double() }}
        ) as pass_share,
        ---------- booleans
        scaled.set_pass_share is null as is_pass_share_defaulted,
        scaled.raw_share >= coalesce(scaled.set_pass_share, {{ var('default_pass_share') }})
            as is_passing,
        scaled.is_overridden,
        scaled.is_excluded,
        ---------- timestamps
        scaled.modified_at as graded_at

    from scaled
    left join activities
        on
            scaled.item_module = activities.module_name
            and scaled.item_instance_id = activities.instance_id
            and scaled.item_type = 'mod'

)

select * from final
