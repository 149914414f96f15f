{#- Whole seconds from one UTC timestamp to a later one. -#}
{% macro seconds_between(start_column, end_column) -%}
    ({{ timestamp_to_epoch(end_column) }} - {{ timestamp_to_epoch(start_column) }})
{%- endmacro %}

{#- Week number counted from an anchor: the week holding the anchor is 1. -#}
{% macro week_number(anchor_column, moment_column) -%}
    cast(floor({{ seconds_between(anchor_column, moment_column) }} / 604800.0) as integer) + 1
{%- endmacro %}

{#- Course weeks from a start to an end, a last partial week counting as one.
    An end up to two hours past a week boundary opens no new week: a course
    set to start and end at local midnight gains an hour of UTC time when
    daylight saving ends in between. -#}
{% macro weeks_spanned(start_column, end_column) -%}
    cast(
        ceiling(
            (
                {{ seconds_between(start_column, end_column) }}
                - case when {{ seconds_between(start_column, end_column) }} > 604800 then 7200 else 0 end
            ) / 604800.0
        )
        as integer
    )
{%- endmacro %}
