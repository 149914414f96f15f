with

as_of_moment as (

    select * from {{ ref('int_as_of_moment') }}

),

classified_events as (

    select * from {{ ref('int_log_events_classified') }}

),

quarantine as (

    select * from {{ ref('fct_log_quarantine') }}

),

-- Rows that are not yet known at the as-of moment are left for a later run.
not_yet_known as (

    select
        'pending' as disposition,
        'after_as_of' as reason,
        log_rows_after_as_of as log_rows
    from as_of_moment

),

dispositions as (

    select
        disposition,
        reason,
        count(*) as log_rows
    from classified_events
    where disposition <> 'quarantined'
    group by disposition, reason
    union all
    select
        'quarantined' as disposition,
        reason,
        sum(quarantined_rows) as log_rows
    from quarantine
    group by reason
    union all
    select * from not_yet_known
    where log_rows > 0

),

final as (

    select
        ---------- ids
        {{ composite_key(['disposition', 'reason']) }} as reconciliation_line_id,
        ---------- strings
        disposition,
        reason,
        ---------- numerics
        cast(log_rows as bigint) as log_rows,
        cast(sum(log_rows) over () as bigint) as accounted_log_rows,
        cast((select as_of_moment.log_rows from as_of_moment) as bigint) as raw_log_rows

    from dispositions

)

select * from final
