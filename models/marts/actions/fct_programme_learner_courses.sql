with

offerings as (

    select * from {{ ref('dim_programme_offerings') }}

),

learner_courses as (

    select * from {{ ref('fct_learner_courses') }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

user_enrolments as (

    select * from {{ ref('stg_moodle__user_enrolments') }}

),

enrolment_methods as (

    select * from {{ ref('stg_moodle__enrolment_methods') }}

),

enrolment_tracks as (

    select * from {{ ref('enrolment_tracks') }}

),

enrolments as (

    select
        user_enrolments.user_id,
        enrolment_methods.course_id,
        enrolment_methods.enrolment_plugin,
        coalesce(enrolment_tracks.enrolment_track, 'unmapped') as enrolment_track,
        coalesce(enrolment_tracks.track_priority, 999999) as track_priority,
        coalesce(enrolment_tracks.is_free_track, false) as is_free_track,
        coalesce(enrolment_tracks.is_certificate_eligible, false) as is_certificate_eligible,
        not user_enrolments.is_suspended and enrolment_methods.is_enabled as is_enabled,
        -- Enabled and not ended: active now or starting later.
        not user_enrolments.is_suspended
        and enrolment_methods.is_enabled
        and (user_enrolments.ends_at is null or user_enrolments.ends_at > {{ as_of() }}) as is_open,
        not user_enrolments.is_suspended
        and enrolment_methods.is_enabled
        and (user_enrolments.starts_at is null or user_enrolments.starts_at <= {{ as_of() }})
        and (user_enrolments.ends_at is null or user_enrolments.ends_at > {{ as_of() }}) as is_active

    from user_enrolments
    inner join enrolment_methods
        on user_enrolments.enrolment_method_id = enrolment_methods.enrolment_method_id
    left join enrolment_tracks
        on enrolment_methods.enrolment_plugin = enrolment_tracks.enrolment_plugin

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
            as is_on_certificate_track,
        max(case when is_open then 1 else 0 end) = 1 as has_open_enrolment,
        max(case when is_active then 1 else 0 end) = 1 as has_active_enrolment

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
        course_learners.is_user_suspended or course_learners.is_user_deleted as is_account_closed,
        coalesce(enrolment_summary.is_free_track, false) as is_free_track,
        coalesce(enrolment_summary.is_on_certificate_track, false) as is_on_certificate_track,
        coalesce(enrolment_summary.has_open_enrolment, false) as has_open_enrolment,
        coalesce(enrolment_summary.has_active_enrolment, false) as has_active_enrolment,
        learner_courses.final_grade_share >= offerings.pass_grade_share as is_grade_passing

    from learner_courses
    inner join offerings
        on learner_courses.course_id = offerings.course_id
    inner join course_learners
        on learner_courses.learner_course_id = course_learners.learner_course_id
    left join enrolment_summary
        on
            course_learners.user_id = enrolment_summary.user_id
            and course_learners.course_id = enrolment_summary.course_id

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
