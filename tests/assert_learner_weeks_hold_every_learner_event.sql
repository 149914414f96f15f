-- The learner-week mart counts every learner event that counts as activity,
-- per learner-course: none falls outside the spine or is counted twice.
with

from_events as (

    select
        learner_course_id,
        sum(case when counts_as_activity then 1 else 0 end) as events
    from {{ ref('int_learner_events_sessionized') }}
    group by learner_course_id

),

from_weeks as (

    select
        learner_course_id,
        sum(events) as events
    from {{ ref('fct_learner_weeks') }}
    group by learner_course_id

)

select
    from_events.learner_course_id,
    from_events.events as events_in_log,
    from_weeks.events as events_in_mart
from from_events
left join from_weeks
    on from_events.learner_course_id = from_weeks.learner_course_id
where coalesce(from_weeks.events, -1) <> from_events.events
