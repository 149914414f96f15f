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
    select
        'quiz' as module_name,
        quiz_id as instance_id,
        quiz_name as activity_name,
        opens_at,
        closes_at as due_at,
        cast(null as {{ dbt.type_timestamp() }}) as cut_off_at
    from quizzes
    union all
    select
        'forum' as module_name,
        forum_id as instance_id,
        forum_name as activity_name,
        null as opens_at,
        due_at,
        cut_off_at
    from forums
    union all
    select
        'feedback' as module_name,
        feedback_id as instance_id,
        feedback_name as activity_name,
        opens_at,
        closes_at as due_at,
        null as cut_off_at
    from feedbacks
    union all
    select
        'page' as module_name,
        page_id as instance_id,
        page_name as activity_name,
        null as opens_at,
        null as due_at,
        null as cut_off_at
    from pages
    union all
    select
        'resource' as module_name,
        resource_id as instance_id,
        resource_name as activity_name,
        null as opens_at,
        null as due_at,
        null as cut_off_at
    from resources
    union all
    select
        'url' as module_name,
        url_id as instance_id,
        url_name as activity_name,
        null as opens_at,
        null as due_at,
        null as cut_off_at
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
            {%- set instance_text = dbt.safe_cast('course_modules.instance_id', dbt.type_string()) %}
            {{ dbt.concat(['modules.module_name', "' '", instance_text]) }}
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
