{#- The moment the reminders are as of: reminders_as_of when set, else as_of. -#}
{%- set reminded_at = as_of() -%}
{%- if var('reminders_as_of') -%}
    {%- set reminded_at = "cast('" ~ var('reminders_as_of') ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
{%- endif -%}
{%- set window_days = var('reminder_window_days') -%}
{%- if window_days is not number or window_days <= 0 -%}
    {{ exceptions.raise_compiler_error(
        "reminder_window_days must be a positive number of days, got '" ~ window_days ~ "'"
    ) }}
{%- endif -%}

with

learner_deadlines as (

    select * from {{ ref('int_learner_deadlines') }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

activities_engaged as (

    select * from {{ ref('int_learner_activities_engaged') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

users as (

    select * from {{ ref('stg_moodle__users') }}

),

user_enrolments as (

    select * from {{ ref('stg_moodle__user_enrolments') }}

),

enrolment_methods as (

    select * from {{ ref('stg_moodle__enrolment_methods') }}

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

reminder_moment as (

    select {{ reminded_at }} as reminded_at

),

due_soon as (

    select
        learner_deadlines.learner_course_id,
        learner_deadlines.learner_id,
        learner_deadlines.user_id,
        learner_deadlines.course_id,
        learner_deadlines.course_module_id,
        learner_deadlines.due_at,
        learner_deadlines.first_handed_in_at,
        reminder_moment.reminded_at

    from learner_deadlines
    cross join reminder_moment
    where
        learner_deadlines.due_at > reminder_moment.reminded_at
        and learner_deadlines.due_at
        <= {{ add_seconds('reminder_moment.reminded_at', (window_days * 86400) | int) }}

),

-- Moodle's own test of an active enrolment: the enrolment and its method are
-- enabled and the moment lies between the enrolment's start and end.
active_enrolments as (

    select distinct
        user_enrolments.user_id,
        enrolment_methods.course_id

    from user_enrolments
    inner join enrolment_methods
        on user_enrolments.enrolment_method_id = enrolment_methods.enrolment_method_id
    cross join reminder_moment
    where
        not user_enrolments.is_suspended
        and enrolment_methods.is_enabled
        and (user_enrolments.starts_at is null or user_enrolments.starts_at <= reminder_moment.reminded_at)
        and (user_enrolments.ends_at is null or user_enrolments.ends_at > reminder_moment.reminded_at)

),

-- What the activity tables say was handed in by the moment, besides the log:
-- a log can be purged or incomplete, the tables keep the state.
handed_in as (

    select
        activities.course_module_id,
        assignment_submissions.user_id

    from assignment_submissions
    inner join activities
        on
            activities.module_name = 'assign'
            and assignment_submissions.assignment_id = activities.instance_id
    cross join reminder_moment
    -- A saved draft counts: the learner has attempted the assignment.
    where
        assignment_submissions.submission_status in ('submitted', 'draft')
        and coalesce(assignment_submissions.modified_at, assignment_submissions.created_at)
        <= reminder_moment.reminded_at

    union all

    select
        activities.course_module_id,
        quiz_attempts.user_id

    from quiz_attempts
    inner join activities
        on
            activities.module_name = 'quiz'
            and quiz_attempts.quiz_id = activities.instance_id
    cross join reminder_moment
    where
        not quiz_attempts.is_preview
        and quiz_attempts.started_at <= reminder_moment.reminded_at

    union all

    select
        activities.course_module_id,
        forum_posts.user_id

    from forum_posts
    inner join forum_discussions
        on forum_posts.discussion_id = forum_discussions.discussion_id
    inner join activities
        on
            activities.module_name = 'forum'
            and forum_discussions.forum_id = activities.instance_id
    cross join reminder_moment
    where
        not forum_posts.is_deleted
        and forum_posts.created_at <= reminder_moment.reminded_at

    union all

    -- Any completion state counts, a failed one included: the learner did it.
    select
        activity_completions.course_module_id,
        activity_completions.user_id

    from activity_completions
    cross join reminder_moment
    where
        activity_completions.completion_state > 0
        and coalesce(activity_completions.modified_at <= reminder_moment.reminded_at, true)

),

handed_in_per_learner as (

    select distinct
        course_module_id,
        user_id

    from handed_in

),

open_reminders as (

    select
        due_soon.*,
        course_learners.enrolled_at,
        activities.module_name,
        activities.activity_name,
        activities.opens_at,
        courses.course_name,
        courses.course_short_name,
        users.first_name,
        users.last_name,
        users.email,
        users.preferred_language,
        activities_engaged.first_engaged_at

    from due_soon
    inner join course_learners
        on due_soon.learner_course_id = course_learners.learner_course_id
    inner join active_enrolments
        on
            due_soon.user_id = active_enrolments.user_id
            and due_soon.course_id = active_enrolments.course_id
    inner join activities
        on due_soon.course_module_id = activities.course_module_id
    inner join courses
        on due_soon.course_id = courses.course_id
    inner join users
        on due_soon.user_id = users.user_id
    left join activities_engaged
        on
            due_soon.learner_course_id = activities_engaged.learner_course_id
            and due_soon.course_module_id = activities_engaged.course_module_id
    left join handed_in_per_learner
        on
            due_soon.course_module_id = handed_in_per_learner.course_module_id
            and due_soon.user_id = handed_in_per_learner.user_id
    where
        handed_in_per_learner.user_id is null
        and (due_soon.first_handed_in_at is null or due_soon.first_handed_in_at > due_soon.reminded_at)
        and not course_learners.is_user_suspended
        and not course_learners.is_user_deleted
        and activities.is_visible
        and courses.is_visible

),

final as (

    select
        ---------- ids
        {{ composite_key(['learner_course_id', 'course_module_id']) }} as deadline_reminder_id,
        learner_course_id,
        learner_id,
        course_id,
        course_module_id as activity_id,
        ---------- strings
        module_name as activity_type,
        activity_name,
        {%- set id_text = dbt.safe_cast('course_module_id', dbt.type_string()) %}
        {{ dbt.concat(["'/mod/'", 'module_name', "'/view.php?id='", id_text]) }} as activity_url_path,
        course_name,
        course_short_name,
        {% if var('include_pii') -%}
            first_name,
            {{ dbt.concat(['first_name', "' '", 'last_name']) }} as full_name,
            email,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as full_name,
        cast(null as {{ dbt.type_string() }}) as email,
        {%- endif %}
        preferred_language,
        ---------- numerics
        cast(floor({{ seconds_between('reminded_at', 'due_at') }} / 86400.0) as integer) as days_left,
        cast(floor({{ seconds_between('reminded_at', 'due_at') }} / 3600.0) as integer) as hours_left,
        ---------- booleans
        coalesce(first_engaged_at <= reminded_at, false) as has_opened_activity,
        ---------- timestamps
        due_at,
        opens_at,
        reminded_at

    from open_reminders

)

select * from final
