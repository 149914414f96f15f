{#- Reading the snapshots (snapshots/) into the history models (models/history). -#}

{#- The versions a snapshot holds; before its first run (a plain `dbt run`, which
    takes no snapshots) no rows, with the columns named in `empty_columns`, and a
    note in the log, so the history model is empty instead of failing. -#}
{% macro snapshot_versions(snapshot, empty_columns) -%}
    {%- if not execute or load_relation(snapshot) is not none -%}
        select * from {{ snapshot }}
    {%- else -%}
        {{ log(snapshot.identifier ~ " not built yet: the history models stay empty until dbt snapshot (or dbt build) runs.", info=true) }}
        select
        {%- for column, data_type in empty_columns.items() %}
            cast(null as {{ data_type }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- Every version of a snapshot of a Moodle table, numbered and dated: valid_from,
    valid_to (the next version's valid_from; null for the latest), observed_at (the
    run that first saw it), is_removed (the row disappeared) and
    is_valid_from_observed. Moodle sets timemodified when it changes a row: trusted
    as valid_from when it falls after the run that saw the previous version and by
    the run that saw this one; a first version holds at least since the row last
    changed (timemodified, else timecreated); otherwise, and for a removal, which
    Moodle does not stamp, valid_from is the run that first saw the version. -#}
{% macro dated_snapshot_versions(snapshot_rows, unique_key) -%}
    select
        stamped.*,
        coalesce(stamped.stamped_change_at, stamped.observed_at) as valid_from,
        lead(coalesce(stamped.stamped_change_at, stamped.observed_at)) over (
            partition by stamped.{{ unique_key }} order by stamped.version_number
        ) as valid_to,
        stamped.stamped_change_at is null as is_valid_from_observed
    from (
        select
            numbered.*,
            case
                when numbered.is_removed then null
                when
                    numbered.previous_observed_at is null
                    and numbered.moodle_changed_at <= numbered.observed_at
                    then numbered.moodle_changed_at
                when
                    numbered.moodle_changed_at > numbered.previous_observed_at
                    and numbered.moodle_changed_at <= numbered.observed_at
                    then numbered.moodle_changed_at
            end as stamped_change_at
        from (
            select
                {{ snapshot_rows }}.*,
                {{ snapshot_rows }}.dbt_is_deleted = 'True' as is_removed,
                coalesce(
                    {{ epoch_to_timestamp(snapshot_rows ~ '.timemodified', zero_is_null=true) }},
                    {{ epoch_to_timestamp(snapshot_rows ~ '.timecreated', zero_is_null=true) }}
                ) as moodle_changed_at,
                {{ snapshot_rows }}.dbt_valid_from as observed_at,
                row_number() over (
                    partition by {{ snapshot_rows }}.{{ unique_key }}
                    order by {{ snapshot_rows }}.dbt_valid_from
                ) as version_number,
                lag({{ snapshot_rows }}.dbt_valid_from) over (
                    partition by {{ snapshot_rows }}.{{ unique_key }}
                    order by {{ snapshot_rows }}.dbt_valid_from
                ) as previous_observed_at
            from {{ snapshot_rows }}
        ) as numbered
    ) as stamped
{%- endmacro %}
