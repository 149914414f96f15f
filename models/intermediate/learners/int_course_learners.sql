with

role_assignments as (

    select * from {{ ref('stg_moodle__role_assignments') }}

),

roles as (

    select * from {{ ref('stg_moodle__roles') }}

),

contexts as (

    select * from {{ ref('stg_moodle__contexts') }}

),

user_enrolments as (

    select * from {{ ref('stg_moodle__user_enrolments') }}

),

enrolment_methods as (

    select * from {{ ref('stg_moodle__enrolment_methods') }}

),

users as (

    select * from {{ ref('stg_moodle__users') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

course_sections as (

    select * from {{ ref('stg_moodle__course_sections') }}

),

-- A course without end date is expected to take one week per section
-- (weeks or topics); weeks_when_no_end_date when it has no sections.
expected_weeks as (

    select
        course_id,
        count(*) as sections

    from course_sections
    where section_number > 0
    group by course_id

),

course_role_holders as (

    select
        role_assignments.user_id,
        contexts.context_instance_id as course_id,
        roles.role_short_name,
        role_assignments.assigned_at

    from role_assignments
    inner join contexts
        on role_assignments.context_id = contexts.context_id
    inner join roles
        on role_assignments.role_id = roles.role_id
    where contexts.context_level = 50

),

learner_roles as (

    select
        user_id,
        course_id,
        min(assigned_at) as role_assigned_at

    from course_role_holders
    where role_short_name in {{ sql_list(var('learner_role_shortnames')) }}
    group by user_id, course_id

),

staff_roles as (

    select distinct
        user_id,
        course_id

    from course_role_holders
    where role_short_name in {{ sql_list(var('staff_role_shortnames')) }}

),

enrolments as (

    select
        user_enrolments.user_id,
        enrolment_methods.course_id,
        enrolment_methods.enrolment_plugin,
        user_enrolments.ends_at,
        coalesce(user_enrolments.starts_at, user_enrolments.created_at) as starts_at,
        user_enrolments.is_suspended or not enrolment_methods.is_enabled as is_inactive,
        row_number() over (
            partition by user_enrolments.user_id, enrolment_methods.course_id
            order by
                coalesce(user_enrolments.starts_at, user_enrolments.created_at),
                user_enrolments.user_enrolment_id
        ) as enrolment_order

    from user_enrolments
    inner join enrolment_methods
        on user_enrolments.enrolment_method_id = enrolment_methods.enrolment_method_id

),

enrolment_per_course as (

    select
        user_id,
        course_id,
        count(*) as enrolments,
        min(starts_at) as enrolled_at,
        -- One open-ended enrolment makes the learner's enrolment open-ended.
        case when count(*) = count(ends_at) then max(ends_at) end as enrolment_ends_at,
        min(case when is_inactive then 1 else 0 end) = 1 as is_enrolment_suspended,
        max(case when enrolment_order = 1 then enrolment_plugin end) as enrolment_method

    from enrolments
    group by user_id, course_id

),

learner_courses as (

    select
        learner_roles.user_id,
        learner_roles.course_id,
        learner_roles.role_assigned_at,
        enrolment_per_course.enrolments,
        enrolment_per_course.enrolled_at,
        enrolment_per_course.enrolment_ends_at,
        enrolment_per_course.is_enrolment_suspended,
        enrolment_per_course.enrolment_method,
        users.is_suspended as is_user_suspended,
        users.is_deleted as is_user_deleted,
        courses.starts_at as course_starts_at,
        courses.ends_at as course_ends_at,
        coalesce(expected_weeks.sections, {{ var('weeks_when_no_end_date') }}) as weeks_without_end_date

    from learner_roles
    inner join enrolment_per_course
        on
            learner_roles.user_id = enrolment_per_course.user_id
            and learner_roles.course_id = enrolment_per_course.course_id
    inner join users
        on learner_roles.user_id = users.user_id
    inner join courses
        on learner_roles.course_id = courses.course_id
    left join expected_weeks
        on learner_roles.course_id = expected_weeks.course_id
    left join staff_roles
        on
            learner_roles.user_id = staff_roles.user_id
            and learner_roles.course_id = staff_roles.course_id
    where
        staff_roles.user_id is null
        and not users.is_guest
        and not courses.is_site_front_page

),

dated as (

    select
        *,
        -- Week 1 starts at the course start, or at the learner's own
        -- enrolment when the course has no start date.
        coalesce(course_starts_at, enrolled_at) as week_one_starts_at

    from learner_courses

),

final as (

    select
        ---------- ids
        {{ composite_key(['user_id', 'course_id']) }} as learner_course_id,
        {{ pseudonymous_id('user_id') }} as learner_id,
        user_id,
        course_id,
        ---------- strings
        enrolment_method,
        ---------- numerics
        enrolments,
        ---------- booleans
        is_enrolment_suspended,
        is_user_suspended,
        is_user_deleted,
        course_ends_at is null as is_course_without_end_date,
        ---------- timestamps
        enrolled_at,
        enrolment_ends_at,
        role_assigned_at,
        week_one_starts_at,
        coalesce(
            course_ends_at,
            {{ add_seconds('week_one_starts_at', '604800 * weeks_without_end_date') }}
        ) as course_ends_at

    from dated

)

select * from final
