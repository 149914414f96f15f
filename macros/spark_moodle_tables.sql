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
        {%- set optional_columns = {} -%}
        {%- for source in graph.sources.values() if source.source_name == 'moodle' -%}
            {%- do identifiers.append(source.identifier) -%}
            {%- if source.name in moodle_optional_tables() -%}
                {%- do optional_columns.update({source.identifier: moodle_optional_tables()[source.name]}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do register_parquet_tables(var('moodle_schema'), parquet_dir, identifiers, optional_columns) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{#- Spark tables schema.<identifier> over the Parquet files
    <directory>/<identifier>.parquet, each dropped and created again. Also run
    by moodle-spark (dbt run-operation) for the risk scores computed on DuckDB;
    logs each table's row count. A table in optional_columns (identifier ->
    'column type' list) is declared with them, so a missing file is an empty
    table with a warning rather than a failed run. -#}
{% macro register_parquet_tables(schema, directory, identifiers, optional_columns={}) -%}
    {%- do run_query('create schema if not exists ' ~ schema) -%}
    {%- for identifier in identifiers -%}
        {%- set table = schema ~ '.' ~ identifier -%}
        {%- do run_query('drop table if exists ' ~ table) -%}
        {%- set declared = [] -%}
        {%- for column in optional_columns.get(identifier, []) -%}
            {%- set name, moodle_type = column.split(' ', 1) -%}
            {%- do declared.append(name ~ ' ' ~ moodle_column_type(moodle_type)) -%}
        {%- endfor -%}
        {%- set file = directory ~ '/' ~ identifier ~ '.parquet' -%}
        {%- do run_query(
            'create table ' ~ table ~ (' (' ~ declared | join(', ') ~ ')' if declared else '')
            ~ " using parquet location '" ~ file ~ "'"
        ) -%}
        {%- set counted = run_query('select count(*) from ' ~ table).columns[0].values()[0] -%}
        {%- do log('registered ' ~ table ~ ': ' ~ counted ~ ' rows', info=true) -%}
        {%- if declared and counted == 0 -%}
            {%- do exceptions.warn(
                'Optional Moodle table ' ~ identifier ~ ': no rows in ' ~ file
                ~ ' (missing or empty; a plugin or feature this site does not use): '
                ~ 'the models reading it get no rows.'
            ) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
