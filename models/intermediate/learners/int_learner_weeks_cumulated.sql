{{ config(materialized='table') }}

with

spine as (

    select * from {{ ref('int_learner_week_spine') }}

),

weekly_activity as (

    select * from {{ ref('int_learner_weeks_aggregated') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

quiz_weeks as (

    select * from {{ ref('int_learner_quiz_weeks_graded') }}

),

tracked_activities as (

    select
        course_id,
        count(*) as tracked_activities

    from activities
    where has_completion_tracking and is_visible
    group by course_id

),

-- A week's quiz average is over the quizzes attempted that week, each at
-- its grade by the quiz's grading method as of the week's end.
quiz_grades_per_week as (

    select
        learner_week_id,
        sum(attempts_finished) as quiz_attempts,
        avg(grade_share) as quiz_average_score,
        sum(grade_share_change) as quiz_grade_total_change,
        sum(graded_quizzes_change) as graded_quizzes_change

    from quiz_weeks
    group by learner_week_id

),

weeks as (

    select
        spine.learner_week_id,
        spine.learner_course_id,
        spine.learner_id,
        spine.user_id,
        spine.course_id,
        spine.course_week_number,
        spine.week_starts_at,
        spine.week_ends_at,
        spine.enrolled_at,
        spine.week_one_starts_at,
        tracked_activities.tracked_activities,
        weekly_activity.first_activity_at,
        weekly_activity.last_activity_at,
        quiz_grades_per_week.quiz_average_score,
        quiz_grades_per_week.quiz_grade_total_change,
        quiz_grades_per_week.graded_quizzes_change,
        coalesce(weekly_activity.events, 0) as events,
        coalesce(weekly_activity.read_events, 0) as read_events,
        coalesce(weekly_activity.write_events, 0) as write_events,
        coalesce(weekly_activity.active_days, 0) as active_days,
        coalesce(weekly_activity.sessions, 0) as sessions,
        coalesce(weekly_activity.seconds_on_task, 0) as seconds_on_task,
        coalesce(weekly_activity.distinct_activities, 0) as distinct_activities,
        coalesce(weekly_activity.activities_completed, 0) as activities_completed,
        coalesce(weekly_activity.submissions, 0) as submissions,
        coalesce(weekly_activity.submissions_on_time, 0) as submissions_on_time,
        coalesce(weekly_activity.submissions_late, 0) as submissions_late,
        coalesce(quiz_grades_per_week.quiz_attempts, 0) as quiz_attempts,
        coalesce(weekly_activity.forum_discussions_started, 0) as forum_discussions_started,
        coalesce(weekly_activity.forum_posts, 0) as forum_posts,
        coalesce(weekly_activity.cognitive_depth, 0) as cognitive_depth,
        coalesce(weekly_activity.social_breadth, 0) as social_breadth

    from spine
    left join weekly_activity using (learner_week_id)
    left join quiz_grades_per_week using (learner_week_id)
    left join tracked_activities
        on spine.course_id = tracked_activities.course_id

),

{%- set so_far -%}
over (partition by learner_course_id order by course_week_number rows between unbounded preceding and current row)
{%- endset %}

cumulative as (

    select
        *,
        sum(events) {{ so_far }} as cumulative_events,
        sum(active_days) {{ so_far }} as cumulative_active_days,
        sum(sessions) {{ so_far }} as cumulative_sessions,
        sum(seconds_on_task) {{ so_far }} as cumulative_seconds_on_task,
        sum(activities_completed) {{ so_far }} as cumulative_activities_completed,
        sum(submissions) {{ so_far }} as cumulative_submissions,
        sum(submissions_late) {{ so_far }} as cumulative_submissions_late,
        sum(quiz_attempts) {{ so_far }} as cumulative_quiz_attempts,
        sum(forum_posts) {{ so_far }} as cumulative_forum_posts,
        max(cognitive_depth) {{ so_far }} as cumulative_cognitive_depth,
        max(social_breadth) {{ so_far }} as cumulative_social_breadth,
        min(first_activity_at) {{ so_far }} as first_activity_so_far_at,
        max(last_activity_at) {{ so_far }} as last_activity_so_far_at,
        sum(graded_quizzes_change) {{ so_far }} as cumulative_graded_quizzes,
        sum(quiz_grade_total_change) {{ so_far }} as cumulative_quiz_grade_total

    from weeks

),

final as (

    select
        ---------- ids
        learner_week_id,
        learner_course_id,
        learner_id,
        user_id,
        course_id,
        ---------- numerics
        cast(course_week_number as integer) as course_week_number,
        cast(events as integer) as events,
        cast(read_events as integer) as read_events,
        cast(write_events as integer) as write_events,
        cast(active_days as integer) as active_days,
        -- Days without activity at the end of the week (or at the as-of
        -- moment in the running week), counted from enrolment if never active.
        cast(
            {{ calendar_days_between(
                'coalesce(last_activity_so_far_at, enrolled_at)',
                'case when week_ends_at < ' ~ as_of() ~ ' then week_ends_at else ' ~ as_of() ~ ' end'
            ) }} as integer
        ) as days_inactive_at_week_end,
        cast(sessions as integer) as sessions,
        cast(round(seconds_on_task / 60.0, 1) as {{ type_double() }}) as minutes_on_task,
        cast(distinct_activities as integer) as distinct_activities,
        cast(activities_completed as integer) as activities_completed,
        cast(submissions as integer) as submissions,
        cast(submissions_on_time as integer) as submissions_on_time,
        cast(submissions_late as integer) as submissions_late,
        cast(quiz_attempts as integer) as quiz_attempts,
        cast(quiz_average_score as {{ type_double() }}) as quiz_average_score,
        cast(forum_discussions_started as integer) as forum_discussions_started,
        cast(forum_posts - forum_discussions_started as integer) as forum_replies,
        cast(cognitive_depth as integer) as cognitive_depth,
        cast(social_breadth as integer) as social_breadth,
        cast(cumulative_events as integer) as cumulative_events,
        cast(cumulative_active_days as integer) as cumulative_active_days,
        cast(cumulative_sessions as integer) as cumulative_sessions,
        cast(round(cumulative_seconds_on_task / 60.0, 1) as {{ type_double() }})
            as cumulative_minutes_on_task,
        cast(cumulative_activities_completed as integer) as cumulative_activities_completed,
        cast(
            case
                when tracked_activities > 0
                    then
                        case
                            when cumulative_activities_completed > tracked_activities then 1.0
                            else 1.0 * cumulative_activities_completed / tracked_activities
                        end
            end as {{ type_double() }}
        ) as cumulative_completion_share,
        cast(cumulative_submissions as integer) as cumulative_submissions,
        cast(cumulative_submissions_late as integer) as cumulative_submissions_late,
        cast(cumulative_quiz_attempts as integer) as cumulative_quiz_attempts,
        cast(
            case
                when cumulative_graded_quizzes > 0
                    then cumulative_quiz_grade_total / cumulative_graded_quizzes
            end as {{ type_double() }}
        ) as cumulative_quiz_average_score,
        cast(cumulative_forum_posts as integer) as cumulative_forum_posts,
        cast(cumulative_cognitive_depth as integer) as cumulative_cognitive_depth,
        cast(cumulative_social_breadth as integer) as cumulative_social_breadth,
        ---------- booleans
        events > 0 as is_active,
        week_ends_at <= {{ as_of() }} as is_complete_week,
        ---------- timestamps
        week_starts_at,
        week_ends_at,
        cast({{ dbt.date_trunc('week', 'week_starts_at') }} as date) as calendar_week_starting,
        last_activity_so_far_at as last_activity_at,
        first_activity_so_far_at,
        enrolled_at,
        week_one_starts_at

    from cumulative

)

select * from final
