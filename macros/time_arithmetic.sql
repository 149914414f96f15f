{#- A timestamp moved by a number of seconds (any integer expression), exact
    to the second on every engine. -#}
{% macro add_seconds(timestamp_column, seconds) -%}
    {{ epoch_to_timestamp(timestamp_to_epoch(timestamp_column) ~ ' + (' ~ seconds ~ ')') }}
{%- endmacro %}

{#- The current moment as a UTC timestamp without time zone. -#}
{% macro now_utc() -%}
    {{ adapter.dispatch('now_utc', 'moodle_analytics')() }}
{%- endmacro %}

{% macro default__now_utc() -%}
    cast(current_timestamp at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro spark__now_utc() -%}
    current_timestamp()
{%- endmacro %}

{#- Integers 1..upper_bound, from cross-joined digits: portable to every engine. -#}
{% macro integer_sequence(upper_bound) -%}
    select n
    from (
        select ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d + 1 as n
        from {{ digits() }} as ones
        cross join {{ digits() }} as tens
        cross join {{ digits() }} as hundreds
        cross join {{ digits() }} as thousands
    ) as numbers
    where n <= {{ upper_bound }}
{%- endmacro %}

{% macro digits() -%}
    (
        {%- for digit in range(10) %}
        select {{ digit }} as d{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#- Days from one UTC timestamp to a later one as people count them: the
    calendar days from the start's date to the end's, an end at a day's last
    second (23:59:59) closing that day like the midnight after it. A week's
    end and an as-of of 23:59:59 on its Sunday count the same (28 days after
    a start four weeks before); a deadline on the 17th is 7 days from the
    10th at any hour. -#}
{% macro calendar_days_between(start_column, end_column) -%}
    {%- set start_day = 'cast(cast(' ~ start_column ~ ' as date) as ' ~ dbt.type_timestamp() ~ ')' -%}
    {%- set end_day = 'cast(cast(' ~ add_seconds(end_column, 1) ~ ' as date) as ' ~ dbt.type_timestamp() ~ ')' -%}
    {#- Both midnights, so the seconds between them are whole days. -#}
    cast({{ seconds_between(start_day, end_day) }} / 86400 as integer)
{%- endmacro %}
