{#- A case expression mapping coded values to names, e.g. Moodle's edulevel
    0/1/2 to other/teaching/participating. Values not in the mapping give
    else_value (null by default) so they stay visible. -#}
{% macro decode(column, mapping, else_value=none) -%}
    case {{ column }}
    {%- for code, name in mapping.items() %}
        when {{ code if code is number else "'" ~ code ~ "'" }} then '{{ name }}'
    {%- endfor %}
        else {{ "'" ~ else_value ~ "'" if else_value is not none else 'null' }}
    end
{%- endmacro %}
