{#- Reading the snapshots (snapshots/) into the history models (models/history). -#}

{#- The versions a snapshot holds; before its first run (a plain `dbt run`, which
    takes no snapshots) no rows, with the columns named in `empty_columns`, and a
    note in the log, so the history model is empty instead of failing. -#}
{% macro snapshot_versions(snapshot, empty_columns) -%}
    {%- if not execute or load_relation(snapshot) is not none -%}
        select * from {{ snapshot }}
    {%- else -%}
        {{ log(snapshot.identifier ~ " not built yet: the history models stay empty until dbt snapshot (or dbt build) runs.", info=true) }}
        select
        {%- for column, data_type in empty_columns.items() %}
            cast(null as {{ data_type }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- When a version began by Moodle's own clock, or null when Moodle did not stamp it.
    Moodle sets timemodified when it changes a row: trusted when it falls after the
    snapshot run that saw the previous version and by the run that saw this one. A
    first version holds at least since the row last changed; a removal (hard delete)
    has no stamp. Null means: known only to have begun by observed_at. -#}
{% macro stamped_change_at(moodle_changed_at, observed_at, previous_observed_at, is_removed) -%}
    case
        when {{ is_removed }} then null
        when {{ previous_observed_at }} is null and {{ moodle_changed_at }} <= {{ observed_at }}
            then {{ moodle_changed_at }}
        when
            {{ moodle_changed_at }} > {{ previous_observed_at }}
            and {{ moodle_changed_at }} <= {{ observed_at }}
            then {{ moodle_changed_at }}
    end
{%- endmacro %}
