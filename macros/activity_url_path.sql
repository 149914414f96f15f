{#- The link Moodle uses for an activity, relative to the site's address:
    /mod/<module>/view.php?id=<course module id>. -#}
{% macro activity_url_path(module_name, course_module_id) -%}
    {{ dbt.concat(["'/mod/'", module_name, "'/view.php?id='", dbt.safe_cast(course_module_id, dbt.type_string())]) }}
{%- endmacro %}
