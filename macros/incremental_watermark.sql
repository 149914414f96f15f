{#- The largest value of a column among the rows an incremental model already
    holds, or empty_value when it holds none: the line between what a
    previous run processed and what this run must take. A stored table built
    by an older version of the model may lack the column: that gets a message
    saying how to rebuild it, not the engine's binder error. (In a unit test
    `this` is the given rows, not a stored table: nothing to check.) -#}
{% macro incremental_watermark(column, empty_value="cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")") -%}
    {%- set stored = adapter.get_relation(this.database, this.schema, this.identifier) if execute and is_incremental() and this is not string else none -%}
    {%- if stored is not none -%}
        {%- set stored_columns = adapter.get_columns_in_relation(stored) | map(attribute='name') | map('lower') | list -%}
        {%- if column | lower not in stored_columns -%}
            {{ exceptions.raise_compiler_error(
                this ~ " has no column " ~ column ~ ": an earlier version of the project built it. "
                ~ "Rebuild it once with: dbt build --full-refresh --select " ~ model.name
            ) }}
        {%- endif -%}
    {%- endif -%}
    (select coalesce(max(previous_run.{{ column }}), {{ empty_value }}) from {{ this }} as previous_run)
{%- endmacro %}
