{#- Names of the codes Moodle stores as numbers or letters, for decode(). -#}

{% macro crud_names() -%}
    {{ return({'c': 'create', 'r': 'read', 'u': 'update', 'd': 'delete'}) }}
{%- endmacro %}

{% macro education_level_names() -%}
    {{ return({0: 'other', 1: 'teaching', 2: 'participating'}) }}
{%- endmacro %}

{% macro context_level_names() -%}
    {{ return({10: 'system', 30: 'user', 40: 'category', 50: 'course', 70: 'module', 80: 'block'}) }}
{%- endmacro %}

{% macro completion_state_names() -%}
    {{ return({0: 'incomplete', 1: 'complete', 2: 'complete_pass', 3: 'complete_fail'}) }}
{%- endmacro %}

{#- Why a log row is quarantined (fct_log_quarantine), in the order they are
    judged; docs/data-quality.md lists the bad rows behind each. -#}
{% macro log_quarantine_reasons() -%}
    {{ return([
        'invalid_time', 'invalid_id', 'invalid_event', 'invalid_code', 'missing_context', 'unreadable_other',
        'unknown_user', 'unknown_course', 'unknown_related_user', 'outside_enrolment', 'duplicate_id',
    ]) }}
{%- endmacro %}
