with

programme_learner_courses as (

    select * from {{ ref('fct_programme_learner_courses') }}

),

programmes as (

    select * from {{ ref('programmes') }}

),

programme_courses as (

    select * from {{ ref('programme_courses') }}

),

-- A learner may take a course more than once (a retake, another term): the
-- course counts as passed when any offering was passed, and so on.
per_course as (

    select
        programme_code,
        learner_id,
        course_code,
        max(case when has_passed then 1 else 0 end) as has_passed,
        max(case when is_completed then 1 else 0 end) as is_completed,
        max(case when is_in_progress then 1 else 0 end) as is_in_progress,
        max(case when is_certificate_eligible then 1 else 0 end) as is_certificate_eligible

    from programme_learner_courses
    group by programme_code, learner_id, course_code

),

learners as (

    select
        programme_code,
        learner_id,
        min(enrolled_at) as first_enrolled_at,
        max(last_activity_at) as last_activity_at

    from programme_learner_courses
    group by programme_code, learner_id

),

latest_track as (

    select
        programme_code,
        learner_id,
        enrolment_track,
        row_number() over (
            partition by programme_code, learner_id
            order by enrolled_at desc, course_position desc, course_id desc
        ) as recency

    from programme_learner_courses

),

-- Every course of the programme for every learner in it, taken or not.
learner_course_grid as (

    select
        learners.programme_code,
        learners.learner_id,
        programme_courses.course_position,
        programme_courses.course_code,
        coalesce(per_course.has_passed, 0) as has_passed,
        coalesce(per_course.is_completed, 0) as is_completed,
        coalesce(per_course.is_in_progress, 0) as is_in_progress,
        coalesce(per_course.is_certificate_eligible, 0) as is_certificate_eligible,
        case when per_course.course_code is not null then 1 else 0 end as is_taken

    from learners
    inner join programme_courses using (programme_code)
    left join per_course
        on
            learners.programme_code = per_course.programme_code
            and learners.learner_id = per_course.learner_id
            and programme_courses.course_code = per_course.course_code

),

next_courses as (

    select
        programme_code,
        learner_id,
        course_position,
        course_code,
        row_number() over (
            partition by programme_code, learner_id
            order by course_position
        ) as course_order

    from learner_course_grid
    where has_passed = 0

),

summary as (

    select
        programme_code,
        learner_id,
        count(*) as programme_courses,
        sum(is_taken) as courses_taken,
        sum(has_passed) as courses_passed,
        sum(is_completed) as courses_completed,
        sum(case when has_passed = 0 then is_in_progress else 0 end) as courses_in_progress,
        sum(is_certificate_eligible) as courses_certificate_eligible

    from learner_course_grid
    group by programme_code, learner_id

),

final as (

    select
        ---------- ids
        {{ composite_key(['summary.programme_code', 'summary.learner_id']) }} as programme_learner_id,
        summary.programme_code,
        summary.learner_id,
        ---------- strings
        programmes.programme_name,
        latest_track.enrolment_track as latest_enrolment_track,
        next_courses.course_code as next_course_code,
        ---------- numerics
        cast(summary.programme_courses as integer) as programme_courses,
        cast(summary.courses_taken as integer) as courses_taken,
        cast(summary.courses_passed as integer) as courses_passed,
        cast(summary.courses_completed as integer) as courses_completed,
        cast(summary.courses_in_progress as integer) as courses_in_progress,
        cast(summary.courses_certificate_eligible as integer) as courses_certificate_eligible,
        cast(summary.programme_courses - summary.courses_passed as integer) as courses_remaining,
        cast(next_courses.course_position as integer) as next_course_position,
        ---------- booleans
        summary.courses_passed = summary.programme_courses as has_passed_every_course,
        summary.courses_certificate_eligible = summary.programme_courses as is_certificate_earned,
        ---------- timestamps
        learners.first_enrolled_at,
        learners.last_activity_at

    from summary
    inner join learners using (programme_code, learner_id)
    inner join programmes using (programme_code)
    inner join latest_track
        on
            summary.programme_code = latest_track.programme_code
            and summary.learner_id = latest_track.learner_id
            and latest_track.recency = 1
    left join next_courses
        on
            summary.programme_code = next_courses.programme_code
            and summary.learner_id = next_courses.learner_id
            and next_courses.course_order = 1

)

select * from final
