{#- Whole seconds from one UTC timestamp to a later one. -#}
{% macro seconds_between(start_column, end_column) -%}
    ({{ timestamp_to_epoch(end_column) }} - {{ timestamp_to_epoch(start_column) }})
{%- endmacro %}

{#- Week number counted from an anchor: the week holding the anchor is 1. -#}
{% macro week_number(anchor_column, moment_column) -%}
    cast(floor({{ seconds_between(anchor_column, moment_column) }} / 604800.0) as integer) + 1
{%- endmacro %}
