-- Raw log rows = used + excluded + quarantined + not yet known: nothing is lost silently.
select *
from {{ ref('rpt_log_reconciliation') }}
where accounted_log_rows <> raw_log_rows
