{#- A model's key in one test: fails on each key (one column or several) that
    is null or held by more than one row. With latest_rows_by (a load-time
    column), only the rows the latest run wrote are read: an incremental
    model replaces every stored row of the keys it writes, so those rows
    being unique among themselves keeps the whole table unique, and a run
    after new log rows reads its new rows, not the whole table. -#}
{% test unique_key_columns(model, columns, latest_rows_by=none) %}

with

rows_checked as (

    select {{ columns | join(', ') }}
    from {{ model }}
    {%- if latest_rows_by %}
    where {{ latest_rows_by }} = (select max({{ latest_rows_by }}) from {{ model }})
    {%- endif %}

)

select
    {{ columns | join(',\n    ') }},
    count(*) as rows_with_key
from rows_checked
group by {{ columns | join(', ') }}
having
    count(*) > 1
    {%- for column in columns %}
    or {{ column }} is null
    {%- endfor %}

{% endtest %}
