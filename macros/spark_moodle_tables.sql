{#- on-run-start on Spark: registers the Moodle tables, written as Parquet files
    <prefix><table>.parquet in the directory the var moodle_parquet_dir names
    (moodle-demo-data --parquet-dir, or moodle-spark), as tables of the
    sources' schema, so the sources read them like any table. Registered again
    on every run, so a new export is picked up; without the var the tables
    must already be in Spark's metastore. Returns no SQL. -#}
{% macro register_moodle_parquet_tables() -%}
    {%- set parquet_dir = var('moodle_parquet_dir') -%}
    {%- if execute and target.type == 'spark' and parquet_dir -%}
        {%- set identifiers = [] -%}
        {%- for source in graph.sources.values() if source.source_name == 'moodle' -%}
            {%- do identifiers.append(source.identifier) -%}
        {%- endfor -%}
        {%- do register_parquet_tables(var('moodle_schema'), parquet_dir, identifiers) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{#- Spark tables schema.<identifier> over the Parquet files
    <directory>/<identifier>.parquet, each dropped and created again. Also run
    by moodle-spark (dbt run-operation) for the risk scores computed on DuckDB;
    logs each table's row count. -#}
{% macro register_parquet_tables(schema, directory, identifiers) -%}
    {%- do run_query('create schema if not exists ' ~ schema) -%}
    {%- for identifier in identifiers -%}
        {%- set table = schema ~ '.' ~ identifier -%}
        {%- do run_query('drop table if exists ' ~ table) -%}
        {%- do run_query(
            'create table ' ~ table ~ " using parquet location '"
            ~ directory ~ '/' ~ identifier ~ ".parquet'"
        ) -%}
        {%- set counted = run_query('select count(*) from ' ~ table) -%}
        {%- do log('registered ' ~ table ~ ': ' ~ counted.columns[0].values()[0] ~ ' rows', info=true) -%}
    {%- endfor -%}
{%- endmacro %}
