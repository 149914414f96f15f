{#- A stable pseudonymous key for a Moodle user: a salted hash, so marts can be
    shared without Moodle ids. Change the learner_id_salt variable per site. -#}
{% macro pseudonymous_id(user_id_column) -%}
    {{ dbt.hash(dbt.concat([sql_text(var('learner_id_salt')), dbt.safe_cast(user_id_column, dbt.type_string())])) }}
{%- endmacro %}
