{#- True for the one or two middle rows of a group ordered by value (position
    from row_number(), count from count(*) over the same group): their
    average is the median, on every engine. -#}
{% macro is_middle_value(position_column, count_column) -%}
    {{ position_column }} in (floor(({{ count_column }} + 1) / 2.0), floor(({{ count_column }} + 2) / 2.0))
{%- endmacro %}

{#- The CTEs cohort_values, ordered_values and cohort_medians: per cohort
    (course_id, course_week_number, week_one_starts_at) of `relation`, the
    median of each (value column, median name) of `medians` over its known
    values, null when fewer than `min_count` are known. -#}
{% macro cohort_medians(relation, medians, min_count) -%}
{%- set cohort = 'course_id, course_week_number, week_one_starts_at' -%}
cohort_values as (

    {%- for value_column, median_name in medians %}
    select
        {{ cohort }},
        '{{ median_name }}' as metric_name,
        {{ value_column }} as metric_value
    from {{ relation }}
    where {{ value_column }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

ordered_values as (

    select
        *,
        row_number() over (partition by {{ cohort }}, metric_name order by metric_value) as value_position,
        count(*) over (partition by {{ cohort }}, metric_name) as value_count

    from cohort_values

),

-- Medians from the one or two middle values: portable to every engine.
cohort_medians as (

    select
        {{ cohort }},
        {%- for value_column, median_name in medians %}
        avg(case when metric_name = '{{ median_name }}' then metric_value end) as {{ median_name }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from ordered_values
    where
        value_count >= {{ min_count }}
        and {{ is_middle_value('value_position', 'value_count') }}
    group by {{ cohort }}

)
{%- endmacro %}
