{#- A timestamp moved by a number of seconds (any integer expression), exact
    to the second on every engine. -#}
{% macro add_seconds(timestamp_column, seconds) -%}
    {{ epoch_to_timestamp(timestamp_to_epoch(timestamp_column) ~ ' + (' ~ seconds ~ ')') }}
{%- endmacro %}

{#- The current moment as a UTC timestamp without time zone. -#}
{% macro now_utc() -%}
    {{ adapter.dispatch('now_utc', 'moodle_analytics')() }}
{%- endmacro %}

{% macro default__now_utc() -%}
    cast(current_timestamp at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro spark__now_utc() -%}
    current_timestamp()
{%- endmacro %}

{#- Integers 1..upper_bound, from cross-joined digits: portable to every engine. -#}
{% macro integer_sequence(upper_bound) -%}
    select n
    from (
        select ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d + 1 as n
        from {{ digits() }} as ones
        cross join {{ digits() }} as tens
        cross join {{ digits() }} as hundreds
        cross join {{ digits() }} as thousands
    ) as numbers
    where n <= {{ upper_bound }}
{%- endmacro %}

{% macro digits() -%}
    (
        {%- for digit in range(10) %}
        select {{ digit }} as d{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
