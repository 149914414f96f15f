with

activities as (

    select * from {{ ref('int_course_activities') }}

),

assignment_submissions as (

    select * from {{ ref('stg_moodle__assignment_submissions') }}

),

quiz_attempts as (

    select * from {{ ref('stg_moodle__quiz_attempts') }}

),

forum_discussions as (

    select * from {{ ref('stg_moodle__forum_discussions') }}

),

forum_posts as (

    select * from {{ ref('stg_moodle__forum_posts') }}

),

activity_completions as (

    select * from {{ ref('stg_moodle__activity_completions') }}

),

-- What the activity tables say a learner handed in, besides the log: a log
-- can be purged or incomplete, the tables keep the state. A saved draft
-- counts (the learner attempted the assignment), so does any completion
-- state, a failed one included.
records as (

    select
        activities.course_module_id,
        assignment_submissions.user_id,
        coalesce(assignment_submissions.modified_at, assignment_submissions.created_at) as recorded_at,
        true as is_hand_in,
        false as is_undated_hand_in,
        false as is_complete

    from assignment_submissions
    inner join activities
        on
            activities.module_name = 'assign'
            and assignment_submissions.assignment_id = activities.instance_id
    where assignment_submissions.submission_status in ('submitted', 'draft')

    union all

    select
        activities.course_module_id,
        quiz_attempts.user_id,
        quiz_attempts.started_at as recorded_at,
        true as is_hand_in,
        false as is_undated_hand_in,
        false as is_complete

    from quiz_attempts
    inner join activities
        on
            activities.module_name = 'quiz'
            and quiz_attempts.quiz_id = activities.instance_id
    where not quiz_attempts.is_preview

    union all

    select
        activities.course_module_id,
        forum_posts.user_id,
        forum_posts.created_at as recorded_at,
        true as is_hand_in,
        false as is_undated_hand_in,
        false as is_complete

    from forum_posts
    inner join forum_discussions using (discussion_id)
    inner join activities
        on
            activities.module_name = 'forum'
            and forum_discussions.forum_id = activities.instance_id
    where not forum_posts.is_deleted

    union all

    select
        course_module_id,
        user_id,
        modified_at as recorded_at,
        completion_state > 0 as is_hand_in,
        completion_state > 0 and modified_at is null as is_undated_hand_in,
        is_complete

    from activity_completions

),

final as (

    select
        ---------- ids
        {{ composite_key(['records.user_id', 'activities.course_id', 'records.course_module_id']) }}
            as learner_activity_id,
        records.user_id,
        activities.course_id,
        records.course_module_id,
        ---------- booleans
        -- A completion without a time counts as handed in at any moment.
        max(case when records.is_undated_hand_in then 1 else 0 end) = 1 as has_undated_hand_in,
        max(case when records.is_complete then 1 else 0 end) = 1 as is_activity_complete,
        ---------- timestamps
        min(case when records.is_hand_in then records.recorded_at end) as first_recorded_hand_in_at

    from records
    inner join activities using (course_module_id)
    group by records.user_id, activities.course_id, records.course_module_id

)

select * from final
