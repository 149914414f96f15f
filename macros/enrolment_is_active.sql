{#- Moodle's test of an active enrolment at a moment: the enrolment and its
    method are enabled and the moment lies between the enrolment's start and
    end (either may be open). `enrolments` names a relation or CTE shaped like
    int_enrolments. -#}
{% macro enrolment_is_active(enrolments, moment) -%}
    {{ enrolments }}.is_enabled
    and ({{ enrolments }}.starts_at is null or {{ enrolments }}.starts_at <= {{ moment }})
    and ({{ enrolments }}.ends_at is null or {{ enrolments }}.ends_at > {{ moment }})
{%- endmacro %}
