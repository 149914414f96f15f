{#- Seconds since 1970 of a UTC timestamp without time zone: the inverse of
    epoch_to_timestamp, for arithmetic that must agree across engines. -#}
{% macro timestamp_to_epoch(column) -%}
    {{ adapter.dispatch('timestamp_to_epoch', 'moodle_analytics')(column) }}
{%- endmacro %}

{% macro default__timestamp_to_epoch(column) -%}
    cast(extract(epoch from {{ column }}) as bigint)
{%- endmacro %}

{% macro duckdb__timestamp_to_epoch(column) -%}
    cast(epoch({{ column }}) as bigint)
{%- endmacro %}

{% macro postgres__timestamp_to_epoch(column) -%}
    cast(extract(epoch from {{ column }} at time zone 'UTC') as bigint)
{%- endmacro %}

{% macro spark__timestamp_to_epoch(column) -%}
    unix_timestamp({{ column }})
{%- endmacro %}
