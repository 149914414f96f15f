{#- Every way a school's file may name a learner of a course: the Moodle user
    id, the username, the e-mail address and the full name as a Logs download
    shows it (first and last name). For joins inside dbt only: the marts stay
    pseudonymous. -#}

with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

users as (

    select * from {{ ref('stg_moodle__users') }}

),

final as (

    select
        ---------- ids
        course_learners.learner_course_id,
        course_learners.learner_id,
        course_learners.user_id,
        course_learners.course_id,
        ---------- strings
        users.username,
        users.email,
        trim({{ dbt.concat(["coalesce(users.first_name, '')", "' '", "coalesce(users.last_name, '')"]) }}) as full_name

    from course_learners
    inner join users using (user_id)

)

select * from final
