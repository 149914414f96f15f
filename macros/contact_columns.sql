{#- The contact columns of a list or dimension: the person's first name,
    full name and e-mail address from int_user_contacts when include_pii is
    true, else typed nulls, so a BI tool sees the same columns either way.
    contacts: the relation or CTE holding them (none: unqualified). -#}
{% macro contact_columns(contacts=none, columns=['first_name', 'full_name', 'email']) -%}
    {%- for column in columns -%}
        {%- if var('include_pii') -%}
            {{ contacts ~ '.' if contacts else '' }}{{ column }}
        {%- else -%}
            cast(null as {{ dbt.type_string() }}) as {{ column }}
        {%- endif -%}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}
