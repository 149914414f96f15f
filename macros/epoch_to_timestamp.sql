{#- Moodle stores times as Unix epoch integers; convert them once, in staging,
    to UTC timestamps without time zone. 0 means "not set" in most Moodle
    columns, so zero_is_null turns it into null. -#}
{% macro epoch_to_timestamp(column, zero_is_null=false) -%}
    {%- set converted = adapter.dispatch('epoch_to_timestamp', 'moodle_analytics')(column) -%}
    {%- if zero_is_null -%}
        case when {{ column }} > 0 then {{ converted }} end
    {%- else -%}
        {{ converted }}
    {%- endif -%}
{%- endmacro %}

{% macro default__epoch_to_timestamp(column) -%}
    cast(to_timestamp({{ column }}) as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__epoch_to_timestamp(column) -%}
    make_timestamp(cast({{ column }} as bigint) * 1000000)
{%- endmacro %}

{% macro postgres__epoch_to_timestamp(column) -%}
    (to_timestamp({{ column }}) at time zone 'UTC')
{%- endmacro %}

{% macro spark__epoch_to_timestamp(column) -%}
    timestamp_seconds({{ column }})
{%- endmacro %}
