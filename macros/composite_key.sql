{#- A readable text key from several columns, e.g. '123-45-7' for
    user-course-week: one way to build every multi-column key. -#}
{% macro composite_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append(dbt.safe_cast(column, dbt.type_string())) -%}
        {%- if not loop.last %}{% do parts.append("'-'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}
