{#- Serving the marts from MySQL/MariaDB (the duckdb_mysql target). The marts
    are built in the local DuckDB file like on the duckdb target; at the end of
    the run each mart this run built is published to the MySQL analytics
    database (ANALYTICS_MYSQL_DBNAME, attached as analytics_mysql): copied under
    a new name, described (MySQL table and column comments), then swapped in
    with one atomic RENAME TABLE, so BI tools never see it half written. MySQL
    holds no boolean: booleans become TINYINT(1), which BI tools read as one.
    Written once at the end, not model by model: DuckDB's mysql extension would
    read the marts back for the next mart (its booleans as numbers), and it
    crashes when two models write to MySQL at once. Grants need nothing here:
    the plugin grants SELECT on the whole analytics database. -#}
{% macro publish_marts_to_mysql(results) -%}
    {%- if not execute or target.name != 'duckdb_mysql' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set published = [] -%}
    {%- for result in results
        if result.node.resource_type == 'model' and result.status == 'success'
        and result.node.fqn[1] == 'marts' and result.node.config.materialized in ('table', 'incremental') -%}
        {%- do publish_mart_to_mysql(result.node) -%}
        {%- do published.append(result.node.alias) -%}
    {%- endfor -%}
    {%- if published -%}
        {%- do log(
            'published ' ~ published | length ~ ' marts to the MySQL database ' ~ target.schema,
            info=true
        ) -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{#- One mart to analytics_mysql.<target schema>.<alias>, described, swapped in. -#}
{% macro publish_mart_to_mysql(node) -%}
    {%- set database = target.schema -%}
    {%- set final = mysql_identifier(database) ~ '.' ~ mysql_identifier(node.alias) -%}
    {%- set new = mysql_identifier(database) ~ '.' ~ mysql_identifier(node.alias ~ '__new') -%}
    {%- set old = mysql_identifier(database) ~ '.' ~ mysql_identifier(node.alias ~ '__old') -%}
    {%- set local = adapter.quote(node.database) ~ '.' ~ adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias) -%}
    {%- do run_query(mysql_execute_sql([
        'drop table if exists ' ~ new, 'drop table if exists ' ~ old
    ])) -%}
    {%- do run_query(
        'create table analytics_mysql.' ~ adapter.quote(database) ~ '.' ~ adapter.quote(node.alias ~ '__new')
        ~ ' as select * from ' ~ local
    ) -%}
    {%- set statements = [] -%}
    {%- if node.description -%}
        {%- do statements.append('alter table ' ~ new ~ ' comment = ' ~ mysql_quoted(node.description[:2048])) -%}
    {%- endif -%}
    {%- do statements.extend(mysql_column_comment_sql(database, node.alias ~ '__new', node.columns)) -%}
    {%- do statements.append('create table if not exists ' ~ final ~ ' like ' ~ new) -%}
    {%- do statements.append('rename table ' ~ final ~ ' to ' ~ old ~ ', ' ~ new ~ ' to ' ~ final) -%}
    {%- do statements.append('drop table ' ~ old) -%}
    {%- do run_query(mysql_execute_sql(statements)) -%}
{%- endmacro %}

{#- MySQL statements commenting a table's columns (at most 1024 characters
    each): MySQL restates a column's whole definition, read from
    information_schema. -#}
{% macro mysql_column_comment_sql(database, table, columns) -%}
    {%- set definitions = run_query(
        "select * from mysql_query('analytics_mysql', '"
        ~ ('select column_name, column_type, is_nullable from information_schema.columns'
           ~ ' where table_schema = ' ~ mysql_quoted(database) ~ ' and table_name = ' ~ mysql_quoted(table)
           ~ ' order by ordinal_position') | replace("'", "''")
        ~ "')"
    ) -%}
    {%- set clauses = [] -%}
    {%- for name, column_type, is_nullable in definitions.rows
        if name in columns and columns[name].description -%}
        {%- do clauses.append(
            'modify column ' ~ mysql_identifier(name) ~ ' ' ~ column_type
            ~ (' not null' if is_nullable == 'NO' else '')
            ~ ' comment ' ~ mysql_quoted(columns[name].description[:1024])
        ) -%}
    {%- endfor -%}
    {%- set target_table = mysql_identifier(database) ~ '.' ~ mysql_identifier(table) -%}
    {{ return(['alter table ' ~ target_table ~ ' ' ~ clauses | join(', ')] if clauses else []) }}
{%- endmacro %}

{% macro mysql_identifier(name) -%}
    {{ return('`' ~ (name | replace('`', '``')) ~ '`') }}
{%- endmacro %}

{#- Text as a MySQL string literal (a backslash is an escape there). -#}
{% macro mysql_quoted(text) -%}
    {{ return("'" ~ (text | replace('\\', '\\\\') | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{#- DuckDB statements having MySQL run each statement in analytics_mysql, then
    dropping DuckDB's cached view of MySQL's catalog, which they change. -#}
{% macro mysql_execute_sql(statements) -%}
    {%- set calls = [] -%}
    {%- for statement in statements -%}
        {%- do calls.append("call mysql_execute('analytics_mysql', '" ~ statement | replace("'", "''") ~ "')") -%}
    {%- endfor -%}
    {%- do calls.append('call mysql_clear_cache()') -%}
    {{ return(calls | join(';\n')) }}
{%- endmacro %}
