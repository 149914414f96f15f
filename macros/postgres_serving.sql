{#- Serving the marts from PostgreSQL to BI tools: grants and column comments.

    The marts' grants config (dbt_project.yml) names the BI roles. dbt grants
    SELECT on each table; a role also needs USAGE on the table's schema, which
    dbt does not give, so these overrides of dbt's apply_grants add it. On the
    duckdb_pg target the marts are tables in a PostgreSQL database attached to
    DuckDB, where DuckDB runs no GRANT or COMMENT: the statements go to
    PostgreSQL through the postgres extension's postgres_execute, inside the
    same transaction as the table. Nothing changes for DuckDB's own tables. -#}

{% macro postgres__apply_grants(relation, grant_config, should_revoke=True) -%}
    {{ dbt.default__apply_grants(relation, grant_config, should_revoke) }}
    {%- set grantees = grantees_of(grant_config) -%}
    {%- if grantees %}
        {% call statement('grant_schema_usage') -%}
            {{ grant_schema_usage_sql(relation.schema, grantees) | join(';\n') }}
        {%- endcall %}
    {%- endif %}
{%- endmacro %}

{% macro duckdb__apply_grants(relation, grant_config, should_revoke=True) -%}
    {%- set grantees = grantees_of(grant_config) -%}
    {%- if grantees and is_postgres_attachment(relation.database) -%}
        {%- set statements = grant_schema_usage_sql(relation.schema, grantees) -%}
        {%- for privilege, roles in grant_config.items() if roles -%}
            {%- set roles = [roles] if roles is string else roles -%}
            {%- do statements.append(
                'grant ' ~ privilege ~ ' on ' ~ postgres_side_name(relation)
                ~ ' to ' ~ (roles | map('tojson') | join(', '))
            ) -%}
        {%- endfor -%}
        {% call statement('grants_in_postgres') -%}
            {{ postgres_execute_sql(relation.database, statements) }}
        {%- endcall %}
    {%- else -%}
        {{ dbt.duckdb__apply_grants(relation, grant_config, should_revoke) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__alter_relation_comment(relation, comment) -%}
    {%- if is_postgres_attachment(relation.database) -%}
        {{ postgres_execute_sql(relation.database, [
            'comment on ' ~ relation.type ~ ' ' ~ postgres_side_name(relation)
            ~ ' is ' ~ dollar_quoted(comment)
        ]) }}
    {%- else -%}
        {{ dbt.duckdb__alter_relation_comment(relation, comment) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__alter_column_comment(relation, column_dict) -%}
    {%- if is_postgres_attachment(relation.database) -%}
        {%- set existing_columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- set statements = [] -%}
        {%- for column_name in column_dict if column_name in existing_columns -%}
            {%- do statements.append(
                'comment on column ' ~ postgres_side_name(relation) ~ '.' ~ adapter.quote(column_name)
                ~ ' is ' ~ dollar_quoted(column_dict[column_name]['description'])
            ) -%}
        {%- endfor -%}
        {{ postgres_execute_sql(relation.database, statements) }}
    {%- else -%}
        {{ dbt.duckdb__alter_column_comment(relation, column_dict) }}
    {%- endif -%}
{%- endmacro %}

{#- PostgreSQL statements giving roles USAGE on a schema. Models finishing at
    the same moment would update the schema's catalog row at once, which
    PostgreSQL refuses ("tuple concurrently updated"): a transaction-scoped
    advisory lock makes them take turns. -#}
{% macro grant_schema_usage_sql(schema, grantees) -%}
    {{ return([
        "select pg_advisory_xact_lock(hashtext('moodle_analytics.grant_schema_usage'))",
        'grant usage on schema ' ~ adapter.quote(schema) ~ ' to '
        ~ (grantees | map('string') | map('tojson') | join(', ')),
    ]) }}
{%- endmacro %}

{#- The roles named anywhere in a grants config, e.g. {'select': ['bi']} -> ['bi']. -#}
{% macro grantees_of(grant_config) -%}
    {%- set grantees = [] -%}
    {%- for roles in (grant_config or {}).values() -%}
        {%- for role in ([roles] if roles is string else roles) if role not in grantees -%}
            {%- do grantees.append(role) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(grantees) }}
{%- endmacro %}

{#- True when a DuckDB database name is a PostgreSQL database attached with the
    postgres extension (the duckdb_pg target's analytics_pg). -#}
{% macro is_postgres_attachment(database) -%}
    {%- if not execute or not database -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from duckdb_databases() where type = 'postgres' and database_name = '"
        ~ (database | replace("'", "''")) ~ "'"
    ) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- schema.table as PostgreSQL itself names a relation of an attached database. -#}
{% macro postgres_side_name(relation) -%}
    {{ return(adapter.quote(relation.schema) ~ '.' ~ adapter.quote(relation.identifier)) }}
{%- endmacro %}

{#- Text as a PostgreSQL dollar-quoted literal, whatever quotes it holds. -#}
{% macro dollar_quoted(text) -%}
    {%- set tag = '$moodle_analytics_text$' -%}
    {%- if tag in text -%}
        {{ exceptions.raise_compiler_error('a description may not contain ' ~ tag) }}
    {%- endif -%}
    {{ return(tag ~ text ~ tag) }}
{%- endmacro %}

{#- DuckDB statements running each PostgreSQL statement in an attached database. -#}
{% macro postgres_execute_sql(database, statements) -%}
    {%- for statement in statements %}
    call postgres_execute('{{ database }}', '{{ statement | replace("'", "''") }}');
    {%- endfor %}
{%- endmacro %}
