with

classified_events as (

    select * from {{ ref('int_log_events_classified') }}

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

),

final as (

    select
        ---------- ids
        {{ composite_key(['log_event_id', 'reason']) }} as quarantine_id,
        log_event_id,
        -- Quarantined rows are few: hashed per row, as in every other mart the
        -- Moodle user id itself only with include_pii.
        {{ pseudonymous_id('user_id') }} as learner_id,
        {% if var('include_pii') -%}
            user_id as moodle_user_id,
        {%- else -%}
        cast(null as bigint) as moodle_user_id,
        {%- endif %}
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
