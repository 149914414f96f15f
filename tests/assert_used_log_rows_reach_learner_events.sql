-- Every log row classified as a learner's event becomes exactly one learner event.
with

used as (

    select count(*) as log_rows
    from {{ ref('int_log_events_classified') }}
    where disposition = 'used'

),

learner_events as (

    select count(*) as log_rows
    from {{ ref('int_learner_events_sessionized') }}

)

select
    used.log_rows as used_log_rows,
    learner_events.log_rows as learner_event_rows
from used
cross join learner_events
where used.log_rows <> learner_events.log_rows
