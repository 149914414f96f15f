{#- dbt.listagg on Spark, honouring its order: dbt-spark's version ignores
    order_by_clause (with a warning), so lists such as a course's teachers
    would come out in whatever order Spark's tasks finished. The values are
    collected with their sort key, sorted, then joined. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set values -%}
        {%- if order_by_clause -%}
            {%- set sort_key = order_by_clause | trim -%}
            {%- if not sort_key.lower().startswith('order by ') or ' desc' in sort_key.lower() or ',' in sort_key -%}
                {{ exceptions.raise_compiler_error(
                    "listagg on Spark sorts by one column ascending ('order by <column>'), not: " ~ order_by_clause
                ) }}
            {%- endif -%}
            transform(
                array_sort(collect_list(struct({{ sort_key[9:] }} as sort_key, {{ measure }} as measure))),
                item -> item.measure
            )
        {%- else -%}
            collect_list({{ measure }})
        {%- endif -%}
    {%- endset -%}
    {%- if limit_num -%}
        array_join(slice({{ values }}, 1, {{ limit_num }}), {{ delimiter_text }})
    {%- else -%}
        array_join({{ values }}, {{ delimiter_text }})
    {%- endif -%}
{%- endmacro %}
