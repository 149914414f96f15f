with

offerings as (

    select * from {{ ref('dim_programme_offerings') }}

),

learner_courses as (

    select * from {{ ref('int_learner_courses_summarised') }}

),

enrolments as (

    select * from {{ ref('int_enrolments') }}

),

-- A learner holding several enrolments (audit, then verified after paying)
-- is on the best track among the enabled ones, else among all.
ranked_enrolments as (

    select
        *,
        row_number() over (
            partition by user_id, course_id
            order by case when is_enabled then 0 else 1 end, track_priority, enrolment_plugin
        ) as track_order

    from enrolments

),

enrolment_summary as (

    select
        user_id,
        course_id,
        max(case when track_order = 1 then enrolment_plugin end) as track_enrolment_plugin,
        max(case when track_order = 1 then enrolment_track end) as enrolment_track,
        max(case when track_order = 1 and is_free_track then 1 else 0 end) = 1 as is_free_track,
        max(case when track_order = 1 and is_certificate_eligible then 1 else 0 end) = 1
            as is_on_certificate_track

    from ranked_enrolments
    group by user_id, course_id

),

joined as (

    select
        offerings.programme_offering_id,
        offerings.programme_code,
        offerings.course_position,
        offerings.course_code,
        offerings.pass_grade_share,
        learner_courses.learner_course_id,
        learner_courses.learner_id,
        learner_courses.course_id,
        learner_courses.final_grade_share,
        learner_courses.is_outcome_known,
        learner_courses.is_completed,
        learner_courses.enrolled_at,
        learner_courses.course_ends_at,
        learner_courses.last_activity_at,
        enrolment_summary.track_enrolment_plugin,
        enrolment_summary.enrolment_track,
        learner_courses.is_account_closed,
        learner_courses.has_open_enrolment,
        learner_courses.has_active_enrolment,
        coalesce(enrolment_summary.is_free_track, false) as is_free_track,
        coalesce(enrolment_summary.is_on_certificate_track, false) as is_on_certificate_track,
        learner_courses.final_grade_share >= offerings.pass_grade_share as is_grade_passing

    from learner_courses
    left join enrolment_summary using (user_id, course_id)
    inner join offerings using (course_id)

),

final as (

    select
        ---------- ids
        {{ composite_key(['programme_code', 'learner_course_id']) }} as programme_learner_course_id,
        programme_offering_id,
        programme_code,
        learner_course_id,
        learner_id,
        course_id,
        ---------- strings
        course_code,
        coalesce(enrolment_track, 'unmapped') as enrolment_track,
        track_enrolment_plugin,
        case
            when is_outcome_known and coalesce(is_grade_passing, false) then 'passed'
            when is_outcome_known then 'not_passed'
            when has_open_enrolment and not is_account_closed then 'in_progress'
            else 'withdrawn'
        end as programme_course_status,
        ---------- numerics
        cast(course_position as integer) as course_position,
        cast(final_grade_share as {{ type_double() }}) as grade_share,
        cast(pass_grade_share as {{ type_double() }}) as pass_grade_share,
        ---------- booleans
        is_outcome_known and coalesce(is_grade_passing, false) as has_passed,
        is_completed,
        not is_outcome_known and has_open_enrolment and not is_account_closed as is_in_progress,
        coalesce(is_grade_passing, false) as is_grade_passing,
        is_free_track,
        is_on_certificate_track,
        is_outcome_known and coalesce(is_grade_passing, false) and is_on_certificate_track
            as is_certificate_eligible,
        has_active_enrolment,
        is_account_closed,
        ---------- timestamps
        enrolled_at,
        course_ends_at,
        last_activity_at

    from joined

)

select * from final
