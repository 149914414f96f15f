{#- on-run-start: stop early, naming the setting to fix, when the Moodle tables
    the selected models read are not where the sources point. Without it a
    wrong schema, prefix or database surfaces later as "table does not exist"
    in a staging model. A missing optional table (moodle_optional_tables) is a
    warning: its staging model reads no rows. Returns no SQL. -#}
{% macro check_moodle_source() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {#- The Moodle tables read by the models of this run, per database and schema. -#}
    {%- set wanted = {} -%}
    {%- for unique_id in selected_resources if unique_id in graph.nodes -%}
        {%- for parent in graph.nodes[unique_id].depends_on.nodes if parent in graph.sources -%}
            {%- set source = graph.sources[parent] -%}
            {%- if source.source_name == 'moodle' -%}
                {%- set place = (source.database, source.schema) -%}
                {%- if place not in wanted -%}
                    {%- do wanted.update({place: []}) -%}
                {%- endif -%}
                {%- if source.identifier not in wanted[place] -%}
                    {%- do wanted[place].append(source.identifier) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for place, identifiers in wanted.items() -%}
        {#- One catalog query per schema: dbt caches the schema's relations. -#}
        {%- set missing = [] -%}
        {%- set optional = [] -%}
        {%- for identifier in identifiers | sort
            if adapter.get_relation(database=place[0], schema=place[1], identifier=identifier) is none -%}
            {%- set table = identifier[var('moodle_table_prefix') | length:] -%}
            {%- do (optional if table in moodle_optional_tables() else missing).append(identifier) -%}
        {%- endfor -%}
        {%- if optional and not missing -%}
            {%- do exceptions.warn(
                'Optional Moodle tables not found in ' ~ place[0] ~ '.' ~ place[1] ~ ': '
                ~ optional | join(', ') ~ ' (a plugin or feature this site does not use): '
                ~ 'the models reading them get no rows.'
            ) -%}
        {%- endif -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                'Moodle tables not found in ' ~ place[0] ~ '.' ~ place[1] ~ ': '
                ~ (missing[:3] | join(', ')) ~ (', ...' if missing | length > 3 else '')
                ~ ' (' ~ missing | length ~ ' of the ' ~ identifiers | length ~ ' this run reads). '
                ~ 'Set the var moodle_schema (now ' ~ var('moodle_schema') ~ ') or moodle_table_prefix (now '
                ~ var('moodle_table_prefix') ~ '), or point ' ~ moodle_source_setting(place[0])
                ~ ' at the database that holds them.'
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- The setting that says which database holds the Moodle tables on this target. -#}
{% macro moodle_source_setting(database) -%}
    {%- if var('moodle_database') -%}
        {{ return('the var moodle_database (now ' ~ var('moodle_database') ~ ')') }}
    {%- elif target.type == 'postgres' -%}
        {{ return('MOODLE_PG_DBNAME (now ' ~ target.database ~ ')') }}
    {%- elif target.name == 'duckdb_mysql' -%}
        {{ return('MOODLE_MYSQL_DBNAME (now ' ~ env_var('MOODLE_MYSQL_DBNAME', 'moodle') ~ ', the MySQL database)') }}
    {%- elif target.type == 'duckdb' and is_postgres_attachment(database) -%}
        {{ return('MOODLE_PG_DBNAME (now ' ~ env_var('MOODLE_PG_DBNAME', 'moodle') ~ ')') }}
    {%- elif target.type == 'duckdb' -%}
        {{ return('MOODLE_SOURCE_DUCKDB (the Moodle DuckDB file)') }}
    {%- elif target.type == 'spark' -%}
        {{ return('the var moodle_parquet_dir (now ' ~ var('moodle_parquet_dir') ~ ') at the Parquet files') }}
    {%- else -%}
        {{ return('the var moodle_database') }}
    {%- endif -%}
{%- endmacro %}
