{#- Reading values that may be wrong without letting one row stop a build: a
    value that cannot be read becomes null, and the model that reads it says why
    (int_log_events_classified quarantines the row). -#}

{#- Whole number from text, or null when the text is not one (or does not fit
    in 18 digits): 'done', '1.5', '' and 99999999999999999999 give null. -#}
{% macro safe_integer(text_expression) -%}
    {{ adapter.dispatch('safe_integer', 'moodle_analytics')(text_expression) }}
{%- endmacro %}

{#- Only digits are cast: engines' casts fail on other text, or round '1.5'. -#}
{% macro default__safe_integer(text_expression) -%}
    case
        when {{ full_match_digits('trim(' ~ text_expression ~ ')') }}
            then cast(trim({{ text_expression }}) as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#- Whether text is an optional minus and 1 to 18 digits (fits in 64 bits). -#}
{% macro full_match_digits(text_expression) -%}
    {{ adapter.dispatch('full_match_digits', 'moodle_analytics')(text_expression) }}
{%- endmacro %}

{% macro default__full_match_digits(text_expression) -%}
    {{ text_expression }} ~ '^-?[0-9]{1,18}$'
{%- endmacro %}

{% macro duckdb__full_match_digits(text_expression) -%}
    regexp_full_match({{ text_expression }}, '-?[0-9]{1,18}')
{%- endmacro %}

{% macro spark__full_match_digits(text_expression) -%}
    {{ text_expression }} rlike '^-?[0-9]{1,18}$'
{%- endmacro %}

{#- A source column as a whole number, whatever type the engine gave it: numeric
    columns as they are, text columns (a CSV import, a MySQL dump loaded as text)
    through safe_integer. column_types maps lower-case column names to the
    engine's type names (source_column_types). -#}
{% macro source_integer(column, column_types) -%}
    {%- set column_type = column_types.get(column | lower, 'bigint') | lower -%}
    {%- if 'char' in column_type or 'text' in column_type or 'string' in column_type -%}
        {{ safe_integer(column) }}
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}

{#- Lower-case column name -> type name of a relation, read when dbt executes
    (empty while parsing, where every column reads as a number). -#}
{% macro source_column_types(relation) -%}
    {%- set column_types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do column_types.update({column.name | lower: column.data_type}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(column_types) }}
{%- endmacro %}

{#- Epoch seconds as a UTC timestamp, or null when the number cannot be a
    moment of a Moodle log (negative, null, or beyond the year 9999, which
    would overflow the conversion). -#}
{% macro safe_epoch_to_timestamp(column) -%}
    case
        when {{ column }} between 0 and {{ latest_readable_epoch() }}
            then {{ epoch_to_timestamp(column) }}
    end
{%- endmacro %}

{#- 9999-12-31 23:59:59 UTC: the last second every engine's timestamp holds. -#}
{% macro latest_readable_epoch() -%}
    253402300799
{%- endmacro %}

{#- A value as a SQL text literal: quotes doubled (and backslashes, where the
    engine reads them as escapes), so a variable such as an apostrophe in a salt
    or an as-of date is data, never SQL. -#}
{% macro sql_text(value) -%}
    {{ adapter.dispatch('sql_text', 'moodle_analytics')(value) }}
{%- endmacro %}

{% macro default__sql_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_text(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- A variable read as a timestamp literal: a clear error naming the variable
    when it is not a date or a date and time, instead of SQL that fails later. -#}
{% macro timestamp_var(name) -%}
    {%- set value = var(name) | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM:SS), not " ~ value
        ) }}
    {%- endif -%}
    cast({{ sql_text(value | replace('T', ' ')) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
