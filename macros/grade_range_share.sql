{#- Where a value lies on a grade item's scale, as a share of the range from
    its minimum to its maximum (null when the item has no range): how Moodle
    grades and pass grades become comparable 0..1 shares. `items` names a
    relation or CTE with grade_min and grade_max. -#}
{% macro grade_range_share(value, items) -%}
    case
        when {{ items }}.grade_max > {{ items }}.grade_min
            then ({{ value }} - {{ items }}.grade_min) / ({{ items }}.grade_max - {{ items }}.grade_min)
    end
{%- endmacro %}

{#- The pass grade of a grade item as a share of its range, null when none is set. -#}
{% macro pass_grade_share(items) -%}
    case
        when {{ items }}.grade_pass > {{ items }}.grade_min
            then {{ grade_range_share(items ~ '.grade_pass', items) }}
    end
{%- endmacro %}
