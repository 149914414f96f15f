{#- The mean of the columns that are not null, null when all are: what
    pandas' mean(axis=1) gives, as one SQL expression on every engine. -#}
{% macro mean_of_known(columns) -%}
    (
        {%- for column in columns %}
        coalesce({{ column }}, 0){% if not loop.last %} +{% endif %}
        {%- endfor %}
    )
    / nullif(
        {%- for column in columns %}
        case when {{ column }} is null then 0 else 1 end{% if not loop.last %} +{% endif %}
        {%- endfor %}
        , 0
    )
{%- endmacro %}
