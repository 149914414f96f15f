with

course_staff as (

    select * from {{ ref('int_course_staff') }}

),

user_contacts as (

    select * from {{ ref('int_user_contacts') }}

),

courses as (

    select * from {{ ref('rpt_course_comparison') }}

),

learner_courses as (

    select * from {{ ref('fct_learner_courses') }}

),

teachers as (

    select distinct
        staff_id,
        user_id,
        course_id

    from course_staff
    where role_short_name in ('editingteacher', 'teacher')

),

final as (

    select
        ---------- ids
        teachers.staff_id,
        ---------- strings
        {% if var('include_pii') -%}
            max(user_contacts.full_name) as teacher_name,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as teacher_name,
        {%- endif %}
        ---------- numerics
        cast(count(distinct teachers.course_id) as integer) as courses_taught,
        cast(count(learner_courses.learner_course_id) as integer) as learners_taught,
        cast(
            avg(
                case
                    when
                        learner_courses.is_outcome_known
                        then case when learner_courses.is_completed then 1 else 0 end
                end
            )
            as {{ type_double() }}
        ) as completion_rate,
        cast(
            avg(
                case
                    when
                        learner_courses.is_outcome_known
                        then case when learner_courses.is_dropout then 1 else 0 end
                end
            )
            as {{ type_double() }}
        ) as dropout_rate,
        cast(avg(learner_courses.final_grade_share) as {{ type_double() }}) as average_grade_share,
        cast(avg(learner_courses.on_time_rate) as {{ type_double() }}) as on_time_rate,
        cast(avg(courses.weekly_active_share) as {{ type_double() }}) as weekly_active_share

    from teachers
    inner join user_contacts using (user_id)
    left join courses using (course_id)
    left join learner_courses using (course_id)
    group by teachers.staff_id

)

select * from final
