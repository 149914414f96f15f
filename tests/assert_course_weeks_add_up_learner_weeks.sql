-- Course-week totals are the sums of their learner-weeks.
with

from_learner_weeks as (

    select
        course_id,
        course_week_number,
        count(*) as learners_followed,
        sum(events) as events
    from {{ ref('fct_learner_weeks') }}
    group by course_id, course_week_number

)

select from_learner_weeks.*
from from_learner_weeks
left join {{ ref('fct_course_weeks') }} as course_weeks
    on
        from_learner_weeks.course_id = course_weeks.course_id
        and from_learner_weeks.course_week_number = course_weeks.course_week_number
where
    course_weeks.course_id is null
    or course_weeks.learners_followed <> from_learner_weeks.learners_followed
    or course_weeks.events <> from_learner_weeks.events
