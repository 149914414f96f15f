{#- The school's outcomes as moodle-risk-evaluate loaded them. Until a file is
    loaded the source table does not exist: then no rows, same columns, so
    a build never needs one. -#}
{%- set loaded = source('outcomes', 'learner_outcomes') %}
{%- set is_loaded = execute and adapter.get_relation(
    database=loaded.database, schema=loaded.schema, identifier=loaded.identifier
) is not none %}
{%- set text = dbt.type_string() %}

with

{% if is_loaded -%}
source as (

    select * from {{ loaded }}

),
{%- else -%}
-- Nothing loaded: no rows (renamed gives the columns their types).
source as (

    select
        null as outcome_row_number,
        null as learner_key,
        null as learner_key_type,
        null as course_key,
        null as course_key_type,
        null as outcome_value,
        null as grade,
        null as pass_mark,
        null as is_positive,
        null as outcome_problem,
        null as outcome_name,
        null as source_file,
        null as loaded_at
    where 1 = 0

),
{%- endif %}

renamed as (

    select
        ---------- ids
        cast(outcome_row_number as integer) as outcome_row_number,
        ---------- strings
        cast(learner_key as {{ text }}) as learner_key,
        cast(learner_key_type as {{ text }}) as learner_key_type,
        cast(course_key as {{ text }}) as course_key,
        cast(course_key_type as {{ text }}) as course_key_type,
        cast(outcome_value as {{ text }}) as outcome_value,
        cast(outcome_problem as {{ text }}) as outcome_problem,
        cast(outcome_name as {{ text }}) as outcome_name,
        cast(source_file as {{ text }}) as source_file,
        ---------- numerics
        cast(grade as {{ type_double() }}) as grade,
        cast(pass_mark as {{ type_double() }}) as pass_mark,
        ---------- booleans
        cast(is_positive as boolean) as is_positive,
        ---------- timestamps
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at

    from source

)

select * from renamed
