with

progress as (

    select * from {{ ref('fct_programme_progress') }}

),

programme_learner_courses as (

    select * from {{ ref('fct_programme_learner_courses') }}

),

programme_courses as (

    select * from {{ ref('programme_courses') }}

),

offerings as (

    select * from {{ ref('dim_programme_offerings') }}

),

user_contacts as (

    select * from {{ ref('int_user_contacts') }}

),

-- What the learner did with the suggested course so far.
next_course_history as (

    select
        progress.programme_learner_id,
        max(case when programme_learner_courses.is_in_progress then 1 else 0 end) as is_in_progress,
        count(programme_learner_courses.learner_course_id) as offerings_taken

    from progress
    left join programme_learner_courses
        on
            progress.programme_code = programme_learner_courses.programme_code
            and progress.learner_id = programme_learner_courses.learner_id
            and progress.next_course_code = programme_learner_courses.course_code
    where progress.next_course_code is not null
    group by progress.programme_learner_id

),

-- The next offering to join: the first one starting after now, or a
-- self-paced one (no start date) that is open at any time.
next_offerings as (

    select
        programme_code,
        course_code,
        course_id,
        course_name,
        starts_at,
        row_number() over (
            partition by programme_code, course_code
            order by case when starts_at is null then 1 else 0 end, starts_at, course_id
        ) as offering_order

    from offerings
    where starts_at is null or starts_at > {{ as_of() }}

),

-- Passed some courses of the programme but not all, and not already
-- enrolled in the first course still to pass.
candidates as (

    select
        progress.programme_learner_id,
        progress.programme_code,
        progress.learner_id,
        progress.programme_name,
        progress.latest_enrolment_track,
        progress.next_course_code,
        progress.next_course_position,
        progress.programme_courses,
        progress.courses_passed,
        progress.courses_certificate_eligible,
        progress.last_activity_at,
        next_course_history.offerings_taken

    from progress
    inner join next_course_history using (programme_learner_id)
    where
        progress.courses_passed > 0
        and not progress.has_passed_every_course
        and next_course_history.is_in_progress = 0

),

-- Learners who turned off e-mail from the site are left out; the list says
-- how many.
email_stopped as (

    select count(distinct candidates.learner_id) as learners_left_out

    from candidates
    inner join user_contacts using (learner_id)
    where
        user_contacts.is_email_stopped
        and not user_contacts.is_suspended
        and not user_contacts.is_deleted

),

final as (

    select
        ---------- ids
        candidates.programme_learner_id,
        candidates.programme_code,
        candidates.learner_id,
        next_offerings.course_id as next_offering_course_id,
        ---------- strings
        candidates.programme_name,
        candidates.next_course_code,
        programme_courses.course_title as next_course_title,
        next_offerings.course_name as next_offering_course_name,
        candidates.latest_enrolment_track,
        {{ contact_columns('user_contacts') }},
        user_contacts.preferred_language,
        user_contacts.timezone,
        ---------- numerics
        cast(candidates.next_course_position as integer) as next_course_position,
        cast(candidates.programme_courses as integer) as programme_courses,
        cast(candidates.courses_passed as integer) as courses_passed,
        cast(candidates.courses_certificate_eligible as integer) as courses_certificate_eligible,
        cast(email_stopped.learners_left_out as integer) as email_stopped_left_out,
        ---------- booleans
        candidates.offerings_taken > 0 as is_retake,
        ---------- timestamps
        next_offerings.starts_at as next_offering_starts_at,
        candidates.last_activity_at

    from candidates
    inner join programme_courses
        on
            candidates.programme_code = programme_courses.programme_code
            and candidates.next_course_code = programme_courses.course_code
    -- The learner's Moodle account: learner_id is its pseudonym.
    inner join user_contacts using (learner_id)
    left join next_offerings
        on
            candidates.programme_code = next_offerings.programme_code
            and candidates.next_course_code = next_offerings.course_code
            and next_offerings.offering_order = 1
    cross join email_stopped
    where
        not user_contacts.is_suspended
        and not user_contacts.is_deleted
        and not user_contacts.is_email_stopped

)

select * from final
