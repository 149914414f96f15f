with

account_snapshots as (

    {{ snapshot_versions(ref('snp_moodle__user_flags'), {
        'id': 'bigint', 'suspended': 'integer', 'deleted': 'integer',
        'timecreated': 'bigint', 'timemodified': 'bigint',
        'dbt_valid_from': dbt.type_timestamp(), 'dbt_is_deleted': dbt.type_string(),
    }) }}

),

enrolment_history as (

    select * from {{ ref('fct_enrolment_status_history') }}

),

-- Whoever holds or held an enrolment in the enrolment history: a deleted account
-- loses its enrolments in Moodle, but not its place here.
history_learners as (

    select distinct learner_id

    from enrolment_history

),

dated as (

    {{ dated_snapshot_versions('account_snapshots', 'id') }}

),

learner_versions as (

    select
        {{ pseudonymous_id('id') }} as learner_id,
        *

    from dated

),

final as (

    select
        ---------- ids
        {{ composite_key(['learner_versions.learner_id', 'learner_versions.version_number']) }}
            as account_version_id,
        learner_versions.learner_id,
        ---------- strings
        case
            when learner_versions.deleted = 1 or learner_versions.is_removed then 'deleted'
            when learner_versions.suspended = 1 then 'suspended'
            else 'active'
        end as account_status,
        ---------- numerics
        cast(learner_versions.version_number as integer) as version_number,
        ---------- booleans
        learner_versions.suspended = 1 as is_suspended,
        learner_versions.deleted = 1 or learner_versions.is_removed as is_deleted,
        learner_versions.is_valid_from_observed,
        ---------- timestamps
        learner_versions.valid_from,
        learner_versions.valid_to,
        learner_versions.observed_at

    from learner_versions
    inner join history_learners using (learner_id)

)

select * from final
