{#- Completion and dropout rates by teacher: one row per teacher (staff_id), with the
    courses they teach. Vars: min_learners (default 1). -#}
{%- set min_learners = var('min_learners', 1) | int -%}

with

teacher_comparison as (

    select * from {{ ref('rpt_teacher_comparison') }}

),

courses as (

    select * from {{ ref('dim_courses') }}

),

-- dim_courses lists each course's teachers as comma-separated staff ids.
courses_taught as (

    select
        teacher_comparison.staff_id,
        {{ dbt.listagg('courses.course_short_name', "', '", 'order by courses.course_short_name') }}
            as course_short_names

    from teacher_comparison
    inner join courses
        on {{ dbt.position('teacher_comparison.staff_id', 'courses.teacher_staff_ids') }} > 0
    group by teacher_comparison.staff_id

),

final as (

    select
        ---------- ids
        teacher_comparison.staff_id,
        ---------- strings
        teacher_comparison.teacher_name,
        courses_taught.course_short_names,
        ---------- numerics
        teacher_comparison.courses_taught,
        teacher_comparison.learners_taught,
        teacher_comparison.completion_rate,
        teacher_comparison.dropout_rate,
        teacher_comparison.average_grade_share,
        teacher_comparison.on_time_rate,
        teacher_comparison.weekly_active_share

    from teacher_comparison
    left join courses_taught using (staff_id)
    where teacher_comparison.learners_taught >= {{ min_learners }}

)

select * from final
order by dropout_rate desc, staff_id asc
