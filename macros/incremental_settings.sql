{#- The config of an incremental model: on_schema_change fails (a stored table
    of another shape is rebuilt with --full-refresh), and how the model
    replaces the rows it computes again, by engine.
    DuckDB and PostgreSQL delete the rows whose unique_key the new batch holds
    and insert the batch. Spark's Parquet tables cannot delete rows: there each
    incremental model is partitioned by course and overwrites the partitions
    (courses) its batch holds, so a batch must hold every row of each course
    it touches (replaces_whole_courses).
    edited_scopes (an aggregate over the learner events): before each
    incremental run, delete the stored rows of the learner-courses Moodle
    edited (delete_edited_learner_courses). -#}
{% macro incremental_settings(unique_key, edited_scopes=none) -%}
    {%- set settings = {'materialized': 'incremental', 'on_schema_change': 'fail'} -%}
    {%- if edited_scopes is not none -%}
        {#- Rendered when the model runs, not now: is_incremental() is known then. -#}
        {%- do settings.update({'pre_hook': "{{ delete_edited_learner_courses(" ~ edited_scopes ~ ") }}"}) -%}
    {%- endif -%}
    {%- if replaces_whole_courses() -%}
        {%- do settings.update({'incremental_strategy': 'insert_overwrite', 'partition_by': ['course_id']}) -%}
    {%- else -%}
        {%- do settings.update({'incremental_strategy': 'delete+insert', 'unique_key': unique_key}) -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}

{#- True where incremental models overwrite whole courses (Spark). -#}
{% macro replaces_whole_courses() -%}
    {{ return(target.type == 'spark') }}
{%- endmacro %}
