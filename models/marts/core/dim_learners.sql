with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

user_contacts as (

    select * from {{ ref('int_user_contacts') }}

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
        {{ contact_columns('user_contacts', ['full_name', 'email']) }},
        user_contacts.preferred_language,
        ---------- numerics
        cast(learners.courses_enrolled as integer) as courses_enrolled,
        ---------- booleans
        user_contacts.is_deleted,
        user_contacts.is_suspended,
        ---------- timestamps
        learners.first_enrolled_at,
        user_contacts.last_access_at

    from learners
    inner join user_contacts using (user_id)

)

select * from final
