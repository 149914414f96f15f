-- The learner-week mart counts every learner event that counts as activity,
-- per learner-course: none falls outside the spine or is counted twice. Read
-- from the weekly aggregates of the log, not from the log itself; the
-- learner-day grain the risk windows add up holds the same events.
with

from_weekly_aggregates as (

    select
        learner_course_id,
        user_id,
        course_id,
        sum(events) as events
    from {{ ref('int_learner_weeks_aggregated') }}
    group by learner_course_id, user_id, course_id

),

from_days as (

    select
        user_id,
        course_id,
        sum(events) as events
    from {{ ref('int_learner_days_aggregated') }}
    group by user_id, course_id

),

from_weeks as (

    select
        learner_course_id,
        sum(events) as events
    from {{ ref('fct_learner_weeks') }}
    group by learner_course_id

)

select
    from_weekly_aggregates.learner_course_id,
    from_weekly_aggregates.events as events_in_log,
    from_weeks.events as events_in_mart,
    from_days.events as events_in_days
from from_weekly_aggregates
left join from_weeks using (learner_course_id)
left join from_days
    on
        from_weekly_aggregates.user_id = from_days.user_id
        and from_weekly_aggregates.course_id = from_days.course_id
where
    coalesce(from_weeks.events, -1) <> from_weekly_aggregates.events
    or coalesce(from_days.events, -1) <> from_weekly_aggregates.events
