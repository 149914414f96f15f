with

enrolment_methods as (

    select * from {{ ref('stg_moodle__enrolment_methods') }}

),

enrolment_tracks as (

    select * from {{ ref('enrolment_tracks') }}

),

final as (

    select
        ---------- ids
        enrolment_methods.enrolment_method_id,
        enrolment_methods.course_id,
        ---------- strings
        enrolment_methods.enrolment_plugin,
        enrolment_methods.enrolment_method_name,
        enrolment_methods.cost,
        enrolment_methods.currency,
        ---------- numerics
        enrolment_methods.sort_order,
        ---------- booleans
        enrolment_methods.is_enabled,
        ---------- timestamps
        enrolment_methods.enrolment_opens_at,
        enrolment_methods.enrolment_closes_at,
        ---------- the track (plugins the seed does not name are on no known track)
        coalesce(enrolment_tracks.enrolment_track, 'unmapped') as enrolment_track,
        coalesce(enrolment_tracks.track_priority, 999999) as track_priority,
        coalesce(enrolment_tracks.is_free_track, false) as is_free_track,
        coalesce(enrolment_tracks.is_paid_track, false) as is_paid_track,
        coalesce(enrolment_tracks.is_certificate_eligible, false) as is_certificate_eligible

    from enrolment_methods
    left join enrolment_tracks using (enrolment_plugin)

)

select * from final
