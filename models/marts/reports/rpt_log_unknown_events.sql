with

classified_events as (

    select * from {{ ref('int_log_events_classified') }}

),

event_catalogue as (

    select * from {{ ref('moodle_event_catalogue') }}

),

-- Every distinct log row is counted: used rows are still described from
-- their own crud and education level, the others show what the site logs.
unknown_events as (

    select
        classified_events.event_name,
        count(*) as log_rows,
        sum(case when classified_events.disposition = 'used' then 1 else 0 end) as used_log_rows,
        min(classified_events.created_at) as first_logged_at,
        max(classified_events.created_at) as last_logged_at

    from classified_events
    left join event_catalogue using (event_name)
    where event_catalogue.event_name is null
    group by classified_events.event_name

),

final as (

    select
        ---------- ids
        coalesce(event_name, '(no event name)') as event_name,
        ---------- numerics
        cast(log_rows as {{ dbt.type_bigint() }}) as log_rows,
        cast(used_log_rows as {{ dbt.type_bigint() }}) as used_log_rows,
        ---------- timestamps
        first_logged_at,
        last_logged_at

    from unknown_events

)

select * from final
