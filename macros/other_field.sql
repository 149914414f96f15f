{#- One scalar value from logstore_standard_log.other, which Moodle writes as
    JSON (current sites) or PHP-serialised (older sites and logs), returned as
    text, or null when the key is absent.
    JSON:  {"completionstate":1}
    PHP:   a:1:{s:15:"completionstate";i:1;} -#}
{% macro other_field(column, key) -%}
    coalesce(
        nullif({{ regex_extract(column, '"' ~ key ~ '":"?([^",}]*)') }}, 'null'),
        {{ regex_extract(column, 's:[0-9]+:"' ~ key ~ '";[idbs]:(?:[0-9]+:")?([^";]*)') }}
    )
{%- endmacro %}

{#- First capture group of a regular expression, or null when it does not match. -#}
{% macro regex_extract(column, pattern) -%}
    {{ adapter.dispatch('regex_extract', 'moodle_analytics')(column, pattern) }}
{%- endmacro %}

{% macro default__regex_extract(column, pattern) -%}
    nullif(regexp_extract({{ column }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro postgres__regex_extract(column, pattern) -%}
    nullif(substring({{ column }} from '{{ pattern }}'), '')
{%- endmacro %}
