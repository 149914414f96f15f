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

versions as (

    select
        {{ pseudonymous_id('id') }} as learner_id,
        suspended = 1 as is_suspended,
        deleted = 1 as is_deleted,
        dbt_is_deleted = 'True' as is_removed,
        coalesce(
            {{ epoch_to_timestamp('timemodified', zero_is_null=true) }},
            {{ epoch_to_timestamp('timecreated', zero_is_null=true) }}
        ) as moodle_changed_at,
        dbt_valid_from as observed_at,
        row_number() over (partition by id order by dbt_valid_from) as version_number,
        lag(dbt_valid_from) over (partition by id order by dbt_valid_from) as previous_observed_at

    from account_snapshots

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
        {{ composite_key(['dated.learner_id', 'dated.version_number']) }} as account_version_id,
        dated.learner_id,
        ---------- strings
        case
            when dated.is_deleted or dated.is_removed then 'deleted'
            when dated.is_suspended then 'suspended'
            else 'active'
        end as account_status,
        ---------- numerics
        cast(dated.version_number as integer) as version_number,
        ---------- booleans
        dated.is_suspended,
        dated.is_deleted or dated.is_removed as is_deleted,
        dated.stamped_change_at is null as is_valid_from_observed,
        ---------- timestamps
        coalesce(dated.stamped_change_at, dated.observed_at) as valid_from,
        lead(coalesce(dated.stamped_change_at, dated.observed_at)) over (
            partition by dated.learner_id order by dated.version_number
        ) as valid_to,
        dated.observed_at

    from dated
    inner join history_learners
        on dated.learner_id = history_learners.learner_id

)

select * from final
