with

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

categories as (

    select * from {{ ref('stg_moodle__course_categories') }}

),

grade_items as (

    select * from {{ ref('stg_moodle__grade_items') }}

),

-- The course total's own pass grade, where the teacher set one.
course_pass_shares as (

    select
        grade_items.course_id,
        max({{ pass_grade_share('grade_items') }}) as pass_share

    from grade_items
    where grade_items.item_type = 'course'
    group by grade_items.course_id

),

final as (

    select
        ---------- ids
        courses.course_id,
        courses.category_id,
        ---------- strings
        courses.course_name,
        courses.course_short_name,
        courses.course_id_number,
        categories.category_name,
        courses.course_format,
        case
            when courses.starts_at is null and courses.ends_at is null then 'self_paced'
            when courses.starts_at > {{ as_of() }} then 'upcoming'
            when courses.ends_at <= {{ as_of() }} then 'finished'
            when courses.ends_at is null then 'open_ended'
            else 'running'
        end as course_status,
        ---------- numerics
        course_pass_shares.pass_share,
        ---------- booleans
        courses.has_completion_tracking,
        courses.ends_at is null as is_without_end_date,
        courses.is_visible,
        ---------- timestamps
        courses.starts_at,
        courses.ends_at

    from courses
    left join categories using (category_id)
    left join course_pass_shares using (course_id)
    where not courses.is_site_front_page

)

select * from final
