{#- Foreign keys are declared, not enforced. The public marts' contracts name
    each foreign key (model-level constraints with `to: ref(...)`), so the
    manifest, the dbt docs and the lineage show the star schema's joins, and
    relationships tests check them at every build. They stay out of the
    tables' DDL on every engine: DuckDB refuses a foreign key to another
    schema (the risk, action and history tables reference the marts) and will
    not replace a referenced table unless this very run rebuilds everything
    that references it, so `dbt build -s dim_courses` would fail; PostgreSQL
    drops the foreign keys of every referencing table, without a word, when
    dbt swaps in a new referenced table (drop ... cascade). Primary keys, not
    null and the other constraints are rendered as dbt renders them (this is
    dbt's table_columns_and_constraints without the foreign keys). -#}
{% macro default__get_table_columns_and_constraints() -%}
    {%- set columns = {} -%}
    {%- for name, column in model['columns'].items() -%}
        {%- do columns.update({name: dict(
            column, constraints=column.get('constraints', []) | rejectattr('type', 'equalto', 'foreign_key') | list
        )}) -%}
    {%- endfor -%}
    {%- set model_constraints = model['constraints'] | rejectattr('type', 'equalto', 'foreign_key') | list -%}
    {%- set rendered = adapter.render_raw_columns_constraints(raw_columns=columns)
        + adapter.render_raw_model_constraints(raw_constraints=model_constraints) -%}
    (
    {{ rendered | join(',\n    ') }}
    )
{%- endmacro %}
