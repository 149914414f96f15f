with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

activities_engaged as (

    select * from {{ ref('int_learner_activities_engaged') }}

),

event_catalogue as (

    select * from {{ ref('moodle_event_catalogue') }}

),

first_activity as (

    select
        learner_course_id,
        min(first_engaged_at) as first_activity_at

    from activities_engaged
    group by learner_course_id

),

-- Community of inquiry: how deep (cognitive) and how social each learner went
-- in each activity, against the deepest level the activity type allows.
potential_levels as (

    select
        activity_type,
        max(cognitive_depth) as max_cognitive_depth,
        max(social_breadth) as max_social_breadth

    from event_catalogue
    where cognitive_depth is not null
    group by activity_type

),

inquiry_scores as (

    select
        course_learners.learner_course_id,
        sum(coalesce(activities_engaged.cognitive_depth, 0)) * 1.0
        / nullif(sum(potential_levels.max_cognitive_depth), 0) as cognitive_depth_score,
        sum(coalesce(activities_engaged.social_breadth, 0)) * 1.0
        / nullif(sum(potential_levels.max_social_breadth), 0) as social_breadth_score

    from course_learners
    inner join activities using (course_id)
    inner join potential_levels
        on activities.module_name = potential_levels.activity_type
    left join activities_engaged
        on
            course_learners.learner_course_id = activities_engaged.learner_course_id
            and activities.course_module_id = activities_engaged.course_module_id
    where activities.is_visible
    group by course_learners.learner_course_id

),

final as (

    select
        ---------- ids
        course_learners.learner_course_id,
        ---------- numerics
        inquiry_scores.cognitive_depth_score,
        inquiry_scores.social_breadth_score,
        ---------- timestamps
        first_activity.first_activity_at

    from course_learners
    left join inquiry_scores using (learner_course_id)
    left join first_activity using (learner_course_id)

)

select * from final
