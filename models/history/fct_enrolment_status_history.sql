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

versions as (

    select
        id as user_enrolment_id,
        userid as user_id,
        courseid as course_id,
        status = 1 as is_suspended,
        enrolstatus = 0 as is_method_enabled,
        dbt_is_deleted = 'True' as is_removed,
        {{ epoch_to_timestamp('timestart', zero_is_null=true) }} as starts_at,
        -- Moodle writes 0, or 2147483647 on some sites, for "no end".
        case
            when timeend > 0 and timeend < 2147483647 then {{ epoch_to_timestamp('timeend') }}
        end as ends_at,
        coalesce(
            {{ epoch_to_timestamp('timemodified', zero_is_null=true) }},
            {{ epoch_to_timestamp('timecreated', zero_is_null=true) }}
        ) as moodle_changed_at,
        dbt_valid_from as observed_at,
        row_number() over (partition by id order by dbt_valid_from) as version_number,
        lag(dbt_valid_from) over (partition by id order by dbt_valid_from) as previous_observed_at

    from enrolment_snapshots

),

dated as (

    select
        *,
        {{ stamped_change_at('moodle_changed_at', 'observed_at', 'previous_observed_at', 'is_removed') }}
            as stamped_change_at

    from versions

),

final as (

    select
        ---------- ids
        {{ composite_key(['dated.user_enrolment_id', 'dated.version_number']) }}
            as enrolment_version_id,
        dated.user_enrolment_id,
        {{ composite_key(['dated.user_id', 'dated.course_id']) }} as learner_course_id,
        {{ pseudonymous_id('dated.user_id') }} as learner_id,
        dated.course_id,
        ---------- strings
        case
            when dated.is_removed then 'removed'
            when dated.is_suspended then 'suspended'
            when not dated.is_method_enabled then 'method_disabled'
            else 'active'
        end as enrolment_status,
        ---------- numerics
        cast(dated.version_number as integer) as version_number,
        ---------- booleans
        dated.is_suspended,
        dated.is_method_enabled,
        dated.is_removed,
        course_learners.learner_course_id is not null as is_learner,
        dated.stamped_change_at is null as is_valid_from_observed,
        ---------- timestamps
        dated.starts_at,
        dated.ends_at,
        coalesce(dated.stamped_change_at, dated.observed_at) as valid_from,
        lead(coalesce(dated.stamped_change_at, dated.observed_at)) over (
            partition by dated.user_enrolment_id order by dated.version_number
        ) as valid_to,
        dated.observed_at

    from dated
    left join course_learners
        on
            dated.user_id = course_learners.user_id
            and dated.course_id = course_learners.course_id
    left join staff_courses
        on
            dated.user_id = staff_courses.user_id
            and dated.course_id = staff_courses.course_id
    -- A staff member's enrolment is not a learner's history.
    where staff_courses.user_id is null

)

select * from final
