{{ config(materialized='table') }}

{%- set newest_plausible = add_seconds(now_utc(), var('future_event_tolerance_days') * 86400) %}

with

log_events as (

    select
        log_event_id,
        created_at
    from {{ ref('stg_moodle__log_events') }}

),

log_summary as (

    -- A row stamped beyond now is a clock error, not the newest activity.
    select
        max(case when created_at <= {{ newest_plausible }} then created_at end) as newest_event_at,
        count(*) as log_rows,
        -- Rows with no readable id cannot be classified: quarantined as a count.
        count(*) - count(log_event_id) as log_rows_without_id

    from log_events

),

moment as (

    select
        {% if var('as_of') -%}
            {{ timestamp_var('as_of') }}
        {%- else -%}
        newest_event_at
        {%- endif %} as as_of_at,
        newest_event_at,
        log_rows,
        log_rows_without_id

    from log_summary

),

-- Rows plausibly stamped after the as-of moment: not known yet, a later run takes them.
log_rows_after as (

    select count(*) as log_rows_after_as_of
    from log_events
    cross join moment
    where
        log_events.created_at > moment.as_of_at
        and log_events.log_event_id is not null
        and log_events.created_at >= cast('2000-01-01' as {{ dbt.type_timestamp() }})
        and log_events.created_at <= {{ newest_plausible }}

),

final as (

    select
        ---------- numerics
        moment.log_rows,
        moment.log_rows_without_id,
        log_rows_after.log_rows_after_as_of,
        ---------- timestamps
        moment.as_of_at,
        moment.newest_event_at

    from moment
    cross join log_rows_after

)

select * from final
