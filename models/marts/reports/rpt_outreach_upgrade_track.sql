with

programme_learner_courses as (

    select * from {{ ref('fct_programme_learner_courses') }}

),

offerings as (

    select * from {{ ref('dim_programme_offerings') }}

),

user_contacts as (

    select * from {{ ref('int_user_contacts') }}

),

-- Passing so far, on the free track, in a running programme course that
-- still sells the paid track: the moment to suggest the upgrade.
candidates as (

    select
        programme_learner_courses.learner_course_id,
        programme_learner_courses.learner_id,
        programme_learner_courses.course_id,
        programme_learner_courses.enrolment_track,
        programme_learner_courses.grade_share,
        programme_learner_courses.pass_grade_share,
        programme_learner_courses.course_ends_at,
        programme_learner_courses.last_activity_at,
        offerings.programme_code,
        offerings.programme_name,
        offerings.certificate_name,
        offerings.course_code,
        offerings.course_title,
        offerings.course_name,
        offerings.course_short_name,
        offerings.paid_track_method_name,
        offerings.paid_track_cost,
        offerings.paid_track_currency

    from programme_learner_courses
    inner join offerings using (programme_offering_id)
    where
        programme_learner_courses.is_in_progress
        and programme_learner_courses.has_active_enrolment
        and programme_learner_courses.is_free_track
        and programme_learner_courses.is_grade_passing
        and offerings.has_open_paid_track

),

-- A course in several programmes gives one suggestion, naming them all.
{%- set learner_course_columns = [
    'learner_course_id', 'learner_id', 'course_id', 'enrolment_track', 'course_code', 'course_title',
    'course_name', 'course_short_name', 'paid_track_method_name', 'paid_track_cost', 'paid_track_currency',
    'grade_share', 'pass_grade_share', 'course_ends_at', 'last_activity_at',
] %}

per_learner_course as (

    select
        {{ learner_course_columns | join(',\n        ') }},
        count(*) as programmes,
        {{ dbt.listagg('programme_code', "', '", 'order by programme_code') }} as programme_codes,
        {{ dbt.listagg('programme_name', "', '", 'order by programme_code') }} as programme_names,
        {{ dbt.listagg('certificate_name', "', '", 'order by programme_code') }} as certificate_names

    from candidates
    group by {{ learner_course_columns | join(', ') }}

),

-- Learners who turned off e-mail from the site are left out; the list says
-- how many.
email_stopped as (

    select count(distinct per_learner_course.learner_id) as learners_left_out

    from per_learner_course
    inner join user_contacts using (learner_id)
    where user_contacts.is_email_stopped

),

final as (

    select
        ---------- ids
        per_learner_course.learner_course_id,
        per_learner_course.learner_id,
        per_learner_course.course_id,
        ---------- strings
        per_learner_course.programme_codes,
        per_learner_course.programme_names,
        per_learner_course.certificate_names,
        per_learner_course.course_code,
        per_learner_course.course_title,
        per_learner_course.course_name,
        per_learner_course.course_short_name,
        per_learner_course.enrolment_track,
        per_learner_course.paid_track_method_name,
        per_learner_course.paid_track_cost,
        per_learner_course.paid_track_currency,
        {{ contact_columns('user_contacts') }},
        user_contacts.preferred_language,
        user_contacts.timezone,
        ---------- numerics
        cast(per_learner_course.programmes as integer) as programmes,
        cast(per_learner_course.grade_share as {{ type_double() }}) as grade_share,
        cast(per_learner_course.pass_grade_share as {{ type_double() }}) as pass_grade_share,
        cast(email_stopped.learners_left_out as integer) as email_stopped_left_out,
        ---------- timestamps
        per_learner_course.course_ends_at,
        per_learner_course.last_activity_at

    from per_learner_course
    -- The learner's Moodle account: learner_id is its pseudonym.
    inner join user_contacts using (learner_id)
    cross join email_stopped
    where not user_contacts.is_email_stopped

)

select * from final
