{#- The largest value of a column among the rows an incremental model already
    holds, or empty_value when it holds none: the line between what a
    previous run processed and what this run must take. -#}
{% macro incremental_watermark(column, empty_value="cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")") -%}
    (select coalesce(max(previous_run.{{ column }}), {{ empty_value }}) from {{ this }} as previous_run)
{%- endmacro %}
