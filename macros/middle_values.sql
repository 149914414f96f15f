{#- True for the one or two middle rows of a group ordered by value (position
    from row_number(), count from count(*) over the same group): their
    average is the median, on every engine. -#}
{% macro is_middle_value(position_column, count_column) -%}
    {{ position_column }} in (floor(({{ count_column }} + 1) / 2.0), floor(({{ count_column }} + 2) / 2.0))
{%- endmacro %}
