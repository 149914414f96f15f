with

course_modules as (

    select * from {{ ref('stg_moodle__course_modules') }}

),

modules as (

    select * from {{ ref('stg_moodle__modules') }}

),

course_sections as (

    select * from {{ ref('stg_moodle__course_sections') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

grade_items as (

    select * from {{ ref('stg_moodle__grade_items') }}

),

assignments as (

    select * from {{ ref('stg_moodle__assignments') }}

),

quizzes as (

    select * from {{ ref('stg_moodle__quizzes') }}

),

forums as (

    select * from {{ ref('stg_moodle__forums') }}

),

feedbacks as (

    select * from {{ ref('stg_moodle__feedbacks') }}

),

pages as (

    select * from {{ ref('stg_moodle__pages') }}

),

resources as (

    select * from {{ ref('stg_moodle__resources') }}

),

urls as (

    select * from {{ ref('stg_moodle__urls') }}

),

-- Each activity type keeps its name and dates in its own table.
instances as (

    select
        'assign' as module_name,
        assignment_id as instance_id,
        assignment_name as activity_name,
        opens_at,
        due_at,
        cut_off_at
    from assignments
    union all
    select 'quiz', quiz_id, quiz_name, opens_at, closes_at, cast(null as {{ dbt.type_timestamp() }})
    from quizzes
    union all
    select 'forum', forum_id, forum_name, null, due_at, cut_off_at
    from forums
    union all
    select 'feedback', feedback_id, feedback_name, opens_at, closes_at, null
    from feedbacks
    union all
    select 'page', page_id, page_name, null, null, null
    from pages
    union all
    select 'resource', resource_id, resource_name, null, null, null
    from resources
    union all
    select 'url', url_id, url_name, null, null, null
    from urls

),

activity_grade_items as (

    select
        item_module as module_name,
        item_instance_id as instance_id,
        grade_item_id,
        grade_min,
        grade_max,
        grade_pass

    from grade_items
    where item_type = 'mod' and item_number = 0

),

final as (

    select
        ---------- ids
        course_modules.course_module_id,
        course_modules.course_id,
        course_modules.instance_id,
        activity_grade_items.grade_item_id,
        ---------- strings
        modules.module_name,
        -- Types whose table the project does not read still get a name.
        coalesce(
            instances.activity_name,
            {{ dbt.concat(['modules.module_name', "' '", dbt.safe_cast('course_modules.instance_id', dbt.type_string())]) }}
        ) as activity_name,
        ---------- numerics
        course_sections.section_number,
        course_modules.completion_tracking,
        activity_grade_items.grade_max,
        activity_grade_items.grade_pass,
        ---------- booleans
        course_modules.is_visible,
        course_modules.completion_tracking > 0 and courses.has_completion_tracking
            as has_completion_tracking,
        ---------- timestamps
        course_modules.added_at,
        instances.opens_at,
        instances.due_at,
        instances.cut_off_at,
        course_modules.completion_expected_at

    from course_modules
    inner join modules
        on course_modules.module_id = modules.module_id
    inner join courses
        on course_modules.course_id = courses.course_id
    left join course_sections
        on course_modules.course_section_id = course_sections.course_section_id
    left join instances
        on
            modules.module_name = instances.module_name
            and course_modules.instance_id = instances.instance_id
    left join activity_grade_items
        on
            modules.module_name = activity_grade_items.module_name
            and course_modules.instance_id = activity_grade_items.instance_id
    where not course_modules.is_being_deleted

)

select * from final
