with

role_holders as (

    select * from {{ ref('int_course_role_holders') }}

),

enrolments as (

    select * from {{ ref('int_enrolments') }}

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

learner_roles as (

    select
        user_id,
        course_id,
        min(assigned_at) as role_assigned_at

    from role_holders
    where role_short_name in {{ sql_list(var('learner_role_shortnames')) }}
    group by user_id, course_id

),

staff_roles as (

    select distinct
        user_id,
        course_id

    from role_holders
    where role_short_name in {{ sql_list(var('staff_role_shortnames')) }}

),

ordered_enrolments as (

    select
        *,
        coalesce(starts_at, created_at) as enrolment_starts_at,
        row_number() over (
            partition by user_id, course_id
            order by coalesce(starts_at, created_at), user_enrolment_id
        ) as enrolment_order

    from enrolments

),

enrolment_per_course as (

    select
        ordered_enrolments.user_id,
        ordered_enrolments.course_id,
        count(*) as enrolments,
        min(ordered_enrolments.enrolment_starts_at) as enrolled_at,
        -- One open-ended enrolment makes the learner's enrolment open-ended.
        case
            when count(*) = count(ordered_enrolments.ends_at) then max(ordered_enrolments.ends_at)
        end as enrolment_ends_at,
        min(case when ordered_enrolments.is_enabled then 0 else 1 end) = 1 as is_enrolment_suspended,
        max(case when {{ enrolment_is_active('ordered_enrolments', as_of()) }} then 1 else 0 end) = 1
            as has_active_enrolment,
        -- Enabled and not ended: active now or starting later.
        max(
            case
                when
                    ordered_enrolments.is_enabled
                    and (ordered_enrolments.ends_at is null or ordered_enrolments.ends_at > {{ as_of() }})
                    then 1
                else 0
            end
        ) = 1 as has_open_enrolment,
        max(
            case when ordered_enrolments.enrolment_order = 1 then ordered_enrolments.enrolment_plugin end
        ) as enrolment_method

    from ordered_enrolments
    group by ordered_enrolments.user_id, ordered_enrolments.course_id

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
        enrolment_per_course.has_active_enrolment,
        enrolment_per_course.has_open_enrolment,
        enrolment_per_course.enrolment_method,
        users.is_suspended as is_user_suspended,
        users.is_deleted as is_user_deleted,
        courses.has_completion_tracking,
        courses.starts_at as course_starts_at,
        courses.ends_at as course_ends_at,
        coalesce(expected_weeks.sections, {{ var('weeks_when_no_end_date') }}) as weeks_without_end_date

    from learner_roles
    inner join enrolment_per_course using (user_id, course_id)
    left join staff_roles using (user_id, course_id)
    inner join users using (user_id)
    inner join courses using (course_id)
    left join expected_weeks using (course_id)
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
        coalesce(course_starts_at, enrolled_at) as week_one_starts_at,
        -- Hashed once per learner-course; every learner key below derives from it.
        {{ pseudonymous_id('user_id') }} as learner_id

    from learner_courses

),

final as (

    select
        ---------- ids
        {{ composite_key(['learner_id', 'course_id']) }} as learner_course_id,
        learner_id,
        user_id,
        course_id,
        ---------- strings
        enrolment_method,
        ---------- numerics
        enrolments,
        ---------- booleans
        is_enrolment_suspended,
        has_active_enrolment,
        has_open_enrolment,
        is_user_suspended,
        is_user_deleted,
        is_user_suspended or is_user_deleted as is_account_closed,
        has_completion_tracking,
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
