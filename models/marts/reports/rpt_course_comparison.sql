with

courses as (

    select * from {{ ref('dim_courses') }}

),

learner_weeks as (

    select * from {{ ref('fct_learner_weeks') }}

),

learner_courses as (

    select * from {{ ref('fct_learner_courses') }}

),

engagement as (

    select
        course_id,
        avg(case when is_active then 1 else 0 end) as weekly_active_share,
        avg(minutes_on_task) as minutes_per_learner_week,
        avg(events) as events_per_learner_week

    from learner_weeks
    where is_complete_week
    group by course_id

),

punctuality as (

    select
        course_id,
        avg(on_time_rate) as on_time_rate,
        avg(forum_discussions_started + forum_replies) as forum_posts_per_learner,
        avg(cognitive_depth_score) as cognitive_depth_score,
        avg(social_breadth_score) as social_breadth_score

    from learner_courses
    group by course_id

),

compared as (

    select
        courses.course_id,
        courses.course_name,
        courses.course_short_name,
        courses.category_name,
        courses.teacher_staff_ids,
        courses.teacher_names,
        courses.course_status,
        courses.learners,
        courses.completion_rate,
        courses.dropout_rate,
        courses.average_grade_share,
        courses.pass_rate,
        engagement.weekly_active_share,
        engagement.minutes_per_learner_week,
        engagement.events_per_learner_week,
        punctuality.on_time_rate,
        punctuality.forum_posts_per_learner,
        punctuality.cognitive_depth_score,
        punctuality.social_breadth_score

    from courses
    left join engagement using (course_id)
    left join punctuality using (course_id)
    where courses.learners > 0

),

final as (

    select
        ---------- ids
        course_id,
        ---------- strings
        course_name,
        course_short_name,
        category_name,
        teacher_staff_ids,
        teacher_names,
        course_status,
        ---------- numerics
        learners,
        completion_rate,
        dropout_rate,
        average_grade_share,
        pass_rate,
        cast(weekly_active_share as {{ type_double() }}) as weekly_active_share,
        cast(minutes_per_learner_week as {{ type_double() }}) as minutes_per_learner_week,
        cast(events_per_learner_week as {{ type_double() }}) as events_per_learner_week,
        cast(on_time_rate as {{ type_double() }}) as on_time_rate,
        cast(forum_posts_per_learner as {{ type_double() }}) as forum_posts_per_learner,
        cast(cognitive_depth_score as {{ type_double() }}) as cognitive_depth_score,
        cast(social_breadth_score as {{ type_double() }}) as social_breadth_score,
        -- Ranks among finished courses (1 = lowest dropout, highest grade).
        cast(
            case when course_status = 'finished' then
                    rank() over (partition by course_status order by dropout_rate)
            end as integer
        ) as dropout_rank,
        cast(
            case when course_status = 'finished' then
                    rank() over (partition by course_status order by average_grade_share desc)
            end as integer
        ) as grade_rank

    from compared

)

select * from final
