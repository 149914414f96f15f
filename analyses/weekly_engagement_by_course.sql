{#- Weekly engagement by course: one row per course and course week.
    Vars: course_ids (list, default []: every course), complete_weeks_only (default true). -#}
{%- set course_ids = var('course_ids', []) -%}
{%- set course_ids = [course_ids] if course_ids is number else course_ids -%}
{%- set filters = ['1 = 1']
    + (['courses.course_id in (' ~ course_ids | map('int') | join(', ') ~ ')'] if course_ids else [])
    + (['course_weeks.is_complete_week'] if var('complete_weeks_only', true) else []) -%}

with

course_weeks as (

    select * from {{ ref('fct_course_weeks') }}

),

courses as (

    select * from {{ ref('dim_courses') }}

),

final as (

    select
        ---------- ids
        courses.course_id,
        ---------- strings
        courses.course_short_name,
        courses.course_name,
        courses.course_status,
        ---------- numerics
        course_weeks.course_week_number,
        course_weeks.learners_followed,
        course_weeks.learners_active,
        course_weeks.active_share,
        course_weeks.events,
        course_weeks.average_minutes_on_task,
        course_weeks.average_active_days,
        course_weeks.submissions_on_time,
        course_weeks.submissions_late,
        course_weeks.quiz_attempts,
        course_weeks.average_quiz_score,
        course_weeks.forum_posts,
        ---------- booleans
        course_weeks.is_complete_week,
        ---------- timestamps
        course_weeks.week_starts_at

    from course_weeks
    inner join courses using (course_id)
    where {{ filters | join(' and ') }}

)

select * from final
order by course_id, course_week_number
