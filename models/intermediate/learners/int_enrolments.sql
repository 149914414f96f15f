with

user_enrolments as (

    select * from {{ ref('stg_moodle__user_enrolments') }}

),

enrolment_methods as (

    select * from {{ ref('int_enrolment_methods') }}

),

final as (

    select
        ---------- ids
        user_enrolments.user_enrolment_id,
        user_enrolments.user_id,
        enrolment_methods.course_id,
        enrolment_methods.enrolment_method_id,
        ---------- strings
        enrolment_methods.enrolment_plugin,
        enrolment_methods.enrolment_track,
        ---------- numerics
        enrolment_methods.track_priority,
        ---------- booleans
        enrolment_methods.is_free_track,
        enrolment_methods.is_certificate_eligible,
        ---------- timestamps
        user_enrolments.starts_at,
        user_enrolments.ends_at,
        user_enrolments.created_at,
        -- Moodle's first test of an active enrolment: neither the enrolment
        -- nor its method is switched off (see enrolment_is_active).
        not user_enrolments.is_suspended and enrolment_methods.is_enabled as is_enabled

    from user_enrolments
    inner join enrolment_methods using (enrolment_method_id)

)

select * from final
