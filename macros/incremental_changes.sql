{#- The rows an incremental model computes again: every row of `rows` (a CTE
    with a loaded_at column) that shares its keys with a row written since the
    model's watermark, the newest source_loaded_at it holds. A full build
    takes every row. One way for every aggregate over the learner events to
    find what changed: a learner-week, -day, -activity or -course with one new
    event is aggregated again from all its events. -#}
{% macro rows_with_changed_keys(rows, keys) -%}
    {%- if is_incremental() %}
    select {{ rows }}.*
    from {{ rows }}
    inner join (
        select distinct {{ keys | join(', ') }}
        from {{ rows }}
        where loaded_at > {{ incremental_watermark('source_loaded_at') }}
    ) as changed_keys
        on
        {%- for key in keys %}
            {{ rows }}.{{ key }} = changed_keys.{{ key }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
    {%- else %}
    select * from {{ rows }}
    {%- endif %}
{%- endmacro %}
