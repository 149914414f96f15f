{#- Completion and dropout rates by course: one row per course.
    Vars: course_status (default 'finished': rates exist once a course has ended; null for
    every course), min_learners (default 1). -#}
{%- set course_status = var('course_status', 'finished') -%}
{%- set min_learners = var('min_learners', 1) | int -%}
{%- set filters = ['course_comparison.learners >= ' ~ min_learners] + (
    ['course_comparison.course_status in ' ~ sql_list([course_status])] if course_status else []
) -%}

with

course_comparison as (

    select * from {{ ref('rpt_course_comparison') }}

),

courses as (

    select * from {{ ref('dim_courses') }}

),

final as (

    select
        ---------- ids
        course_comparison.course_id,
        ---------- strings
        course_comparison.course_short_name,
        course_comparison.course_name,
        course_comparison.category_name,
        course_comparison.teacher_names,
        course_comparison.course_status,
        ---------- numerics
        course_comparison.learners,
        courses.learners_completed,
        courses.learners_dropped_out,
        course_comparison.completion_rate,
        course_comparison.dropout_rate,
        course_comparison.pass_rate,
        course_comparison.average_grade_share,
        course_comparison.weekly_active_share,
        course_comparison.on_time_rate,
        course_comparison.dropout_rank,
        ---------- booleans
        courses.has_completion_tracking

    from course_comparison
    inner join courses using (course_id)
    where {{ filters | join(' and ') }}

)

select * from final
order by dropout_rate desc, course_id asc
