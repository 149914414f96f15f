{{ config(materialized='table') }}

with

log_events as (

    select created_at from {{ ref('stg_moodle__log_events') }}

),

plausible_events as (

    -- A row stamped beyond now is a clock error, not the newest activity.
    select max(created_at) as newest_event_at
    from log_events
    where created_at <= {{ add_seconds(now_utc(), var('future_event_tolerance_days') * 86400) }}

),

final as (

    select
        {% if var('as_of') -%}
            cast('{{ var("as_of") }}' as {{ dbt.type_timestamp() }})
        {%- else -%}
        newest_event_at
        {%- endif %} as as_of_at,
        newest_event_at

    from plausible_events

)

select * from final
