{#- A list of text values as SQL, for `in`: ['student', 'x'] -> ('student', 'x'). -#}
{% macro sql_list(values) -%}
    ({% for value in values %}{{ sql_text(value) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
