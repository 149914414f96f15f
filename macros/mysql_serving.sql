{#- Serving the marts from MySQL/MariaDB (the duckdb_mysql target): DuckDB's
    mysql extension runs no COMMENT, so the table and column descriptions of a
    table in an attached MySQL database go to MySQL itself, through the
    extension's mysql_execute (postgres_serving.sql's comment overrides call
    these). Grants need nothing here: the plugin grants SELECT on the whole
    analytics database (moodle_analytics.mysql.duckdb_plugin). -#}

{#- MySQL statements commenting a table (at most 2048 characters). -#}
{% macro mysql_relation_comment_sql(relation, comment) -%}
    {{ return([
        'alter table ' ~ mysql_side_name(relation) ~ ' comment = ' ~ mysql_quoted(comment[:2048])
    ]) }}
{%- endmacro %}

{#- MySQL statements commenting columns (at most 1024 characters each): MySQL
    restates a column's whole definition, read from information_schema. -#}
{% macro mysql_column_comment_sql(relation, column_dict) -%}
    {%- set definitions = run_query(
        "select column_name, column_type, is_nullable from mysql_query('" ~ relation.database ~ "', '"
        ~ ("select column_name, column_type, is_nullable from information_schema.columns where table_schema = "
           ~ mysql_quoted(relation.schema) ~ ' and table_name = ' ~ mysql_quoted(relation.identifier))
           | replace("'", "''")
        ~ "')"
    ) -%}
    {%- set clauses = [] -%}
    {%- for name, column_type, is_nullable in definitions.rows
        if name in column_dict and column_dict[name]['description'] -%}
        {%- do clauses.append(
            'modify column ' ~ mysql_identifier(name) ~ ' ' ~ column_type
            ~ (' not null' if is_nullable == 'NO' else '')
            ~ ' comment ' ~ mysql_quoted(column_dict[name]['description'][:1024])
        ) -%}
    {%- endfor -%}
    {{ return(['alter table ' ~ mysql_side_name(relation) ~ ' ' ~ clauses | join(', ')] if clauses else []) }}
{%- endmacro %}

{#- True when a DuckDB database name is a MySQL database attached with the mysql
    extension (the duckdb_mysql target's analytics_mysql). -#}
{% macro is_mysql_attachment(database) -%}
    {%- if not execute or not database or target.name != 'duckdb_mysql' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from duckdb_databases() where type = 'mysql' and database_name = '"
        ~ (database | replace("'", "''")) ~ "'"
    ) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- `database`.`table` as MySQL names a relation of an attached database. -#}
{% macro mysql_side_name(relation) -%}
    {{ return(mysql_identifier(relation.schema) ~ '.' ~ mysql_identifier(relation.identifier)) }}
{%- endmacro %}

{% macro mysql_identifier(name) -%}
    {{ return('`' ~ (name | replace('`', '``')) ~ '`') }}
{%- endmacro %}

{#- Text as a MySQL string literal (a backslash is an escape there). -#}
{% macro mysql_quoted(text) -%}
    {{ return("'" ~ (text | replace('\\', '\\\\') | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{#- DuckDB statements running each MySQL statement in an attached database. -#}
{% macro mysql_execute_sql(database, statements) -%}
    {%- for statement in statements %}
    call mysql_execute('{{ database }}', '{{ statement | replace("'", "''") }}');
    {%- endfor %}
{%- endmacro %}
