{#- on-run-end: names in the build log the log events the event catalogue
    (seeds/moodle_event_catalogue.csv) does not know, with their row counts,
    whenever rpt_log_unknown_events was built in this run. Those events are
    still used (described from their crud and education level); the list
    says which rows to add to the catalogue. Returns no SQL. -#}
{% macro report_unknown_events() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = [] -%}
    {%- for result in results
        if result.node.name == 'rpt_log_unknown_events' and result.status == 'success' -%}
        {%- do built.append(result.node) -%}
    {%- endfor -%}
    {%- if not built -%}
        {{ return('') }}
    {%- endif -%}
    {%- set listed = run_query(
        'select event_name, log_rows, used_log_rows from ' ~ built[0].relation_name
        ~ ' order by log_rows desc, event_name'
    ) -%}
    {%- if listed.rows | length == 0 -%}
        {{ log('Event catalogue: every logged event is known.', info=true) }}
    {%- else -%}
        {%- set total = listed.columns[1].values() | sum -%}
        {{ log('Event catalogue: ' ~ listed.rows | length ~ ' logged events are not in '
            ~ 'seeds/moodle_event_catalogue.csv (' ~ total ~ ' log rows, described from their '
            ~ 'crud and education level):', info=true) }}
        {%- for row in listed.rows -%}
            {{ log('  ' ~ row[0] ~ ': ' ~ row[1] ~ ' log rows, ' ~ row[2] ~ ' used', info=true) }}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
