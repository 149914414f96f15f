with

learner_weeks as (

    select * from {{ ref('fct_learner_weeks') }}

),

final as (

    select
        ---------- ids
        {{ composite_key(['course_id', 'course_week_number']) }} as course_week_id,
        course_id,
        ---------- numerics
        course_week_number,
        cast(count(*) as integer) as learners_followed,
        cast(sum(case when is_active then 1 else 0 end) as integer) as learners_active,
        cast(avg(case when is_active then 1 else 0 end) as {{ type_double() }}) as active_share,
        cast(sum(events) as integer) as events,
        cast(avg(minutes_on_task) as {{ type_double() }}) as average_minutes_on_task,
        cast(avg(active_days) as {{ type_double() }}) as average_active_days,
        cast(sum(submissions_on_time) as integer) as submissions_on_time,
        cast(sum(submissions_late) as integer) as submissions_late,
        cast(sum(quiz_attempts) as integer) as quiz_attempts,
        cast(avg(quiz_average_score) as {{ type_double() }}) as average_quiz_score,
        cast(sum(forum_discussions_started + forum_replies) as integer) as forum_posts,
        cast(avg(cumulative_completion_share) as {{ type_double() }})
            as average_cumulative_completion_share,
        cast(avg(days_inactive_at_week_end) as {{ type_double() }})
            as average_days_inactive_at_week_end,
        ---------- booleans
        min(case when is_complete_week then 1 else 0 end) = 1 as is_complete_week,
        ---------- timestamps
        min(week_starts_at) as week_starts_at,
        max(week_ends_at) as week_ends_at

    from learner_weeks
    group by course_id, course_week_number

)

select * from final
