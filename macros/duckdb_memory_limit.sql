{#- on-run-start: on DuckDB, DUCKDB_MEMORY_LIMIT (e.g. 4GB) bounds the memory of
    the whole run, Python models included; DuckDB spills to disk beyond it.
    Unset, DuckDB keeps its default (80% of RAM). -#}
{% macro duckdb_memory_limit() -%}
    {%- set memory_limit = env_var('DUCKDB_MEMORY_LIMIT', '') -%}
    {%- if target.type == 'duckdb' and memory_limit -%}
        set memory_limit = '{{ memory_limit | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
