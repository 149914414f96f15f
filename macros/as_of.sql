{#- The moment the analysis is as of: the as_of variable when set, else the
    newest plausible log event (so a snapshot of a site is read as of its last
    activity and a live replica as of now). -#}
{% macro as_of() -%}
    (select as_of_at from {{ ref('int_as_of_moment') }})
{%- endmacro %}
