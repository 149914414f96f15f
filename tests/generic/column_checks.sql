{#- What each column of a model must hold, checked in one pass over it: no
    nulls (not_null: column names), values within a range (ranges: column ->
    [min, max], nulls pass), values from a list (accepted_values: column ->
    values, nulls pass). Returns one row per broken check with the number of
    rows that break it. With latest_rows_by (a load-time column), only the
    rows the latest run wrote are read. One test per model instead of one per
    column and fact: every test is a query and a node of the build. -#}
{% test column_checks(model, not_null=[], ranges={}, accepted_values={}, latest_rows_by=none) %}

{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append(('not_null', column, column ~ ' is null')) -%}
{%- endfor -%}
{%- for column, bounds in ranges.items() -%}
    {%- do checks.append((
        'between ' ~ bounds[0] ~ ' and ' ~ bounds[1], column,
        column ~ ' < ' ~ bounds[0] ~ ' or ' ~ column ~ ' > ' ~ bounds[1]
    )) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(value if value is number else "'" ~ (value | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {%- do checks.append(('accepted_values', column, column ~ ' not in (' ~ literals | join(', ') ~ ')')) -%}
{%- endfor -%}

with

broken_rows as (

    select
        {%- for check in checks %}
        sum(case when {{ check[2] }} then 1 else 0 end) as check_{{ loop.index }},
        {%- endfor %}
        count(*) as rows_checked

    from {{ model }}
    {%- if latest_rows_by %}
    where {{ latest_rows_by }} = (select max({{ latest_rows_by }}) from {{ model }})
    {%- endif %}

)

{% for check in checks -%}
select
    '{{ check[0] }}' as broken_check,
    '{{ check[1] }}' as column_name,
    check_{{ loop.index }} as rows_breaking_it
from broken_rows
where check_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif %}
{%- endfor %}

{% endtest %}
