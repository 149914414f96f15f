{#- An 8-byte float on every engine (dbt's type_float is 4 bytes on DuckDB). -#}
{% macro type_double() -%}
    {{ adapter.dispatch('type_double', 'moodle_analytics')() }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
