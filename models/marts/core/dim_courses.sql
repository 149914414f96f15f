with

courses as (

    select * from {{ ref('int_courses_categorised') }}

),

course_staff as (

    select * from {{ ref('int_course_staff') }}

),

user_contacts as (

    select * from {{ ref('int_user_contacts') }}

),

learner_courses as (

    select * from {{ ref('fct_learner_courses') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

teachers as (

    select
        course_staff.course_id,
        count(distinct course_staff.user_id) as teachers,
        {{ dbt.listagg('course_staff.staff_id', "', '", 'order by course_staff.staff_id') }}
            as teacher_staff_ids,
        {{ dbt.listagg('user_contacts.full_name', "', '", 'order by course_staff.staff_id') }}
            as teacher_full_names

    from course_staff
    inner join user_contacts using (user_id)
    where course_staff.role_short_name in ('editingteacher', 'teacher')
    group by course_staff.course_id

),

activity_counts as (

    select
        course_id,
        count(*) as activities,
        sum(case when has_completion_tracking then 1 else 0 end) as tracked_activities

    from activities
    where is_visible
    group by course_id

),

learner_outcomes as (

    select
        course_id,
        count(*) as learners,
        sum(case when is_enrolment_suspended then 0 else 1 end) as active_enrolments,
        sum(case when is_completed then 1 else 0 end) as learners_completed,
        sum(case when is_dropout then 1 else 0 end) as learners_dropped_out,
        -- Shares as averages of 1/0 integers: a decimal literal (1.0) makes
        -- Spark average in decimals rounded to 5 places.
        avg(case when is_outcome_known then case when is_completed then 1 else 0 end end)
            as completion_rate,
        avg(case when is_outcome_known then case when is_dropout then 1 else 0 end end)
            as dropout_rate,
        avg(final_grade_share) as average_grade_share,
        avg(case when final_grade_share is not null then case when has_passed then 1 else 0 end end)
            as pass_rate

    from learner_courses
    group by course_id

),

-- Every column of the course, then the figures of its staff, activities and
-- learners; the contract (yml) says which the dimension publishes.
joined as (

    select
        courses.*,
        teachers.teacher_staff_ids,
        {% if var('include_pii') -%}
            teachers.teacher_full_names as teacher_names,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as teacher_names,
        {%- endif %}
        cast(coalesce(teachers.teachers, 0) as integer) as teachers,
        cast(coalesce(activity_counts.activities, 0) as integer) as activities,
        cast(coalesce(activity_counts.tracked_activities, 0) as integer) as tracked_activities,
        cast(coalesce(learner_outcomes.learners, 0) as integer) as learners,
        cast(coalesce(learner_outcomes.active_enrolments, 0) as integer) as active_enrolments,
        cast(coalesce(learner_outcomes.learners_completed, 0) as integer) as learners_completed,
        cast(coalesce(learner_outcomes.learners_dropped_out, 0) as integer) as learners_dropped_out,
        cast(learner_outcomes.completion_rate as {{ type_double() }}) as completion_rate,
        cast(learner_outcomes.dropout_rate as {{ type_double() }}) as dropout_rate,
        cast(learner_outcomes.average_grade_share as {{ type_double() }}) as average_grade_share,
        cast(learner_outcomes.pass_rate as {{ type_double() }}) as pass_rate

    from courses
    left join teachers using (course_id)
    left join activity_counts using (course_id)
    left join learner_outcomes using (course_id)

),

final as (

    select
        {{ contract_columns() }}

    from joined

)

select * from final
