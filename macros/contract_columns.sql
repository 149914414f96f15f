{#- The columns of the model being built, as its yml documents them (its
    contract), comma-separated: a mart that publishes an intermediate model
    selects exactly what it promises, in that order, without listing the
    columns a second time. -#}
{% macro contract_columns() -%}
    {%- set names = model.columns.keys() | list -%}
    {%- if not execute -%}
        {{ return('*') }}
    {%- elif not names -%}
        {{ exceptions.raise_compiler_error(model.name ~ " documents no columns for contract_columns()") }}
    {%- endif -%}
    {{ names | join(',\n        ') }}
{%- endmacro %}
