with

enrolment_snapshots as (

    {{ snapshot_versions(ref('snp_moodle__user_enrolments'), {
        'id': 'bigint', 'courseid': 'bigint', 'userid': 'bigint', 'status': 'integer',
        'enrolstatus': 'integer', 'timestart': 'bigint', 'timeend': 'bigint',
        'timecreated': 'bigint', 'timemodified': 'bigint',
        'dbt_valid_from': dbt.type_timestamp(), 'dbt_is_deleted': dbt.type_string(),
    }) }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

course_staff as (

    select * from {{ ref('int_course_staff') }}

),

staff_courses as (

    select distinct
        user_id,
        course_id

    from course_staff

),

snapshot_versions as (

    {{ dated_snapshot_versions('enrolment_snapshots', 'id') }}

),

-- Hashed once per enrolment version; the learner keys below derive from it.
dated as (

    select
        {{ pseudonymous_id('userid') }} as learner_id,
        userid as user_id,
        courseid as course_id,
        *

    from snapshot_versions

),

final as (

    select
        ---------- ids
        {{ composite_key(['dated.id', 'dated.version_number']) }} as enrolment_version_id,
        dated.id as user_enrolment_id,
        {{ composite_key(['dated.learner_id', 'dated.course_id']) }} as learner_course_id,
        dated.learner_id,
        dated.course_id,
        ---------- strings
        case
            when dated.is_removed then 'removed'
            when dated.status = 1 then 'suspended'
            when dated.enrolstatus <> 0 then 'method_disabled'
            else 'active'
        end as enrolment_status,
        ---------- numerics
        cast(dated.version_number as integer) as version_number,
        ---------- booleans
        dated.status = 1 as is_suspended,
        dated.enrolstatus = 0 as is_method_enabled,
        dated.is_removed,
        course_learners.learner_course_id is not null as is_learner,
        dated.is_valid_from_observed,
        ---------- timestamps
        {{ epoch_to_timestamp('dated.timestart', zero_is_null=true) }} as starts_at,
        -- Moodle writes 0, or 2147483647 on some sites, for "no end".
        case
            when dated.timeend > 0 and dated.timeend < 2147483647
                then {{ epoch_to_timestamp('dated.timeend') }}
        end as ends_at,
        dated.valid_from,
        dated.valid_to,
        dated.observed_at

    from dated
    left join course_learners using (user_id, course_id)
    left join staff_courses using (user_id, course_id)
    -- A staff member's enrolment is not a learner's history.
    where staff_courses.user_id is null

)

select * from final
