{#- Fails on values outside [min_value, max_value]; nulls pass (not_null is its own test). -#}
{% test value_between(model, column_name, min_value, max_value) %}

select {{ column_name }} as value_out_of_range
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}

{% endtest %}
