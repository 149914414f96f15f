{#- The rows an incremental model computes again: every row of `rows` (a CTE
    with user_id, course_id and a loaded_at column) that shares its keys with
    a row written since the model's watermark, the newest source_loaded_at it
    holds, and every row of a learner-course whose context Moodle edited
    since then (edited_learner_courses). A full build takes every row. One
    way for every aggregate over the learner events to find what changed: a
    learner-week, -day, -activity or -course with one new event is aggregated
    again from all its events. -#}
{% macro rows_with_changed_keys(rows, keys, edited_scopes=['learner_course']) -%}
    {%- if is_incremental() %}
    select {{ rows }}.*
    from {{ rows }}
    left join (
        select distinct {{ keys | join(', ') }}
        from {{ rows }}
        where loaded_at > {{ incremental_watermark('source_loaded_at') }}
    ) as changed_keys
        on
        {%- for key in keys %}
            {{ rows }}.{{ key }} = changed_keys.{{ key }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
    where
        changed_keys.{{ keys[0] }} is not null
        or exists (
            select 1
            from ({{ edited_learner_courses(edited_scopes) }}) as edited
            where edited.user_id = {{ rows }}.user_id and edited.course_id = {{ rows }}.course_id
        )
    {%- else %}
    select * from {{ rows }}
    {%- endif %}
{%- endmacro %}

{#- The learner-courses (user_id, course_id) whose context changed since the
    model's watermark, as int_event_contexts_fingerprinted records it: the
    learner-course itself (enrolment, role, course dates, deletion), every
    learner-course when the event settings changed, and with
    'activity' among the scopes, every learner of a course whose due dates
    changed. -#}
{% macro edited_learner_courses(scopes=['learner_course']) -%}
    select edited.user_id, edited.course_id
    from {{ ref('int_event_contexts_fingerprinted') }} as edited
    where
        edited.context_scope = 'learner_course'
        and (
            edited.changed_at > {{ incremental_watermark('source_loaded_at') }}
            or {{ event_settings_changed('source_loaded_at') }}
        )
    {%- if 'activity' in scopes %}
    union
    select learners.user_id, learners.course_id
    from {{ ref('int_event_contexts_fingerprinted') }} as learners
    inner join {{ ref('int_event_contexts_fingerprinted') }} as edited
        on learners.course_id = edited.course_id
    where
        learners.context_scope = 'learner_course'
        and edited.context_scope = 'activity'
        and edited.changed_at > {{ incremental_watermark('source_loaded_at') }}
    {%- endif %}
{%- endmacro %}

{#- A pre-hook of each aggregate over the learner events: the stored rows of
    the learner-courses Moodle edited go before the batch comes, since the
    batch may not hold them again (a learner unenrolled has no events left;
    a moved course start numbers the weeks anew). Spark's Parquet tables
    cannot delete rows: there the batch overwrites whole courses. -#}
{% macro delete_edited_learner_courses(edited_scopes=['learner_course']) -%}
    {%- if is_incremental() and not replaces_whole_courses() -%}
    delete from {{ this }} as stored_rows
    where exists (
        select 1
        from ({{ edited_learner_courses(edited_scopes) }}) as edited
        where edited.user_id = stored_rows.user_id and edited.course_id = stored_rows.course_id
    )
    {%- endif -%}
{%- endmacro %}

{#- The moment this dbt invocation started, as a timestamp: the stamp of
    every row an incremental model writes (loaded_at, changed_at). -#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- True for a log row of `rows` (a CTE of log rows) whose learner-course,
    user or course Moodle edited since int_log_events_classified last wrote
    (its newest loaded_at), or any row when the event settings changed: such
    rows are judged and numbered again. One test per scope, each on equal
    keys, so engines join rather than loop. -#}
{% macro is_in_edited_context(rows) -%}
    {%- set keys_by_scope = {'learner_course': ['user_id', 'course_id'], 'user': ['user_id'], 'course': ['course_id']} -%}
    {{ event_settings_changed('loaded_at') }}
    {%- for scope, keys in keys_by_scope.items() %}
    or exists (
        select 1
        from {{ ref('int_event_contexts_fingerprinted') }} as edited
        where
            edited.context_scope = '{{ scope }}'
            and edited.changed_at > {{ incremental_watermark('loaded_at') }}
            {%- for key in keys %}
            and edited.{{ key }} = {{ rows }}.{{ key }}
            {%- endfor %}
    )
    {%- endfor %}
{%- endmacro %}

{#- A line in the build log when the settings the event models depend on
    (settings_literal, a SQL string as int_event_contexts_fingerprinted builds it)
    differ from those of the stored run: the models then take every row
    again, which takes as long as a full refresh. -#}
{% macro report_changed_event_settings(settings_literal) -%}
    {%- if execute and is_incremental() -%}
        {%- set stored = run_query(
            "select context_id from " ~ this ~ " where context_scope = 'settings' and context_fingerprint = "
            ~ dbt.hash(settings_literal)
        ) -%}
        {%- if stored.rows | length == 0 -%}
            {{ log(
                "int_event_contexts_fingerprinted: the settings the incremental event models depend on changed"
                ~ " since their last run (now " ~ settings_literal ~ "): int_log_events_classified and the"
                ~ " aggregates over it take every log row again, as dbt build --full-refresh would.",
                info=true
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- True when the settings the event models depend on changed since the
    model's watermark (its newest `watermark_column`): every row is taken again. -#}
{% macro event_settings_changed(watermark_column) -%}
exists (
        select 1
        from {{ ref('int_event_contexts_fingerprinted') }} as settings
        where settings.context_scope = 'settings' and settings.changed_at > {{ incremental_watermark(watermark_column) }}
    )
{%- endmacro %}
