with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

users as (

    select * from {{ ref('stg_moodle__users') }}

),

learners as (

    select
        learner_id,
        user_id,
        count(*) as courses_enrolled,
        min(enrolled_at) as first_enrolled_at

    from course_learners
    group by learner_id, user_id

),

final as (

    select
        ---------- ids
        learners.learner_id,
        {% if var('include_pii') -%}
            learners.user_id as moodle_user_id,
        {%- else -%}
        cast(null as bigint) as moodle_user_id,
        {%- endif %}
        ---------- strings
        {% if var('include_pii') -%}
            {{ dbt.concat(['users.first_name', "' '", 'users.last_name']) }} as full_name,
            users.email,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as full_name,
        cast(null as {{ dbt.type_string() }}) as email,
        {%- endif %}
        users.preferred_language,
        ---------- numerics
        cast(learners.courses_enrolled as integer) as courses_enrolled,
        ---------- booleans
        users.is_deleted,
        users.is_suspended,
        ---------- timestamps
        learners.first_enrolled_at,
        users.last_access_at

    from learners
    inner join users
        on learners.user_id = users.user_id

)

select * from final
