-- Every log row classified as a learner's event reaches exactly one
-- learner-week: the used rows of the reconciliation equal the log rows the
-- weekly aggregates hold.
with

used as (

    select sum(log_rows) as log_rows
    from {{ ref('rpt_log_reconciliation') }}
    where disposition = 'used'

),

in_weeks as (

    select sum(log_rows) as log_rows
    from {{ ref('int_learner_weeks_aggregated') }}

)

select
    used.log_rows as used_log_rows,
    in_weeks.log_rows as learner_week_log_rows
from used
cross join in_weeks
where coalesce(used.log_rows, 0) <> coalesce(in_weeks.log_rows, 0)
