with

classified_events as (

    select * from {{ ref('int_log_events_classified') }}

),

as_of_moment as (

    select * from {{ ref('int_as_of_moment') }}

),

quarantined as (

    select
        log_event_id,
        reason,
        1 as quarantined_rows,
        user_id,
        course_id,
        event_name,
        created_at
    from classified_events
    where disposition = 'quarantined'
    union all
    -- Every copy of an id beyond the first.
    select
        log_event_id,
        'duplicate_id' as reason,
        copies - 1 as quarantined_rows,
        user_id,
        course_id,
        event_name,
        created_at
    from classified_events
    where copies > 1
    union all
    -- Rows whose id cannot be read: one line with their count.
    select
        cast(null as {{ dbt.type_bigint() }}) as log_event_id,
        'invalid_id' as reason,
        log_rows_without_id as quarantined_rows,
        cast(null as {{ dbt.type_bigint() }}) as user_id,
        cast(null as {{ dbt.type_bigint() }}) as course_id,
        cast(null as {{ dbt.type_string() }}) as event_name,
        cast(null as {{ dbt.type_timestamp() }}) as created_at
    from as_of_moment
    where log_rows_without_id > 0

),

final as (

    select
        ---------- ids
        {{ composite_key(["coalesce(" ~ dbt.safe_cast('log_event_id', dbt.type_string()) ~ ", 'no id')", 'reason']) }}
            as quarantine_id,
        log_event_id,
        -- Quarantined rows are few: hashed per row, as in every other mart the
        -- Moodle user id itself only with include_pii.
        {{ pseudonymous_id('user_id') }} as learner_id,
        {{ moodle_user_id_if_pii('user_id') }} as moodle_user_id,
        course_id,
        ---------- strings
        reason,
        event_name,
        ---------- numerics
        cast(quarantined_rows as integer) as quarantined_rows,
        ---------- timestamps
        created_at

    from quarantined

)

select * from final
