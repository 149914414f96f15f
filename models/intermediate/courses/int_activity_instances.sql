with

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
final as (

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

)

select * from final
