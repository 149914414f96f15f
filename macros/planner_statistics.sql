{#- Post-hook for every model: fresh planner statistics for a table just built.
    PostgreSQL plans the next model's joins from them; without them a table
    built moments ago looks empty or uniform and the planner picks nested
    loops that take minutes. DuckDB and Spark keep their own: nothing to do. -#}
{% macro refresh_planner_statistics() -%}
    {{ return(adapter.dispatch('refresh_planner_statistics', 'moodle_analytics')()) }}
{%- endmacro %}

{% macro default__refresh_planner_statistics() -%}
{%- endmacro %}

{% macro postgres__refresh_planner_statistics() -%}
    {%- if model.config.materialized in ['table', 'incremental'] -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
