{#- How an incremental model replaces the rows it computes again, by engine.
    DuckDB and PostgreSQL delete the rows whose unique_key the new batch holds
    and insert the batch. Spark's Parquet tables cannot delete rows: there each
    incremental model is partitioned by course and overwrites the partitions
    (courses) its batch holds, so a batch must hold every row of each course
    it touches (replaces_whole_courses). -#}
{% macro incremental_settings(unique_key) -%}
    {%- if replaces_whole_courses() -%}
        {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': ['course_id']}) }}
    {%- else -%}
        {{ return({'incremental_strategy': 'delete+insert', 'unique_key': unique_key}) }}
    {%- endif -%}
{%- endmacro %}

{#- True where incremental models overwrite whole courses (Spark). -#}
{% macro replaces_whole_courses() -%}
    {{ return(target.type == 'spark') }}
{%- endmacro %}
