{#- Each row of the school's outcomes with the learner-course it names, or
    why it names none. Nothing is guessed: a course key must name exactly one
    course (by id, or short name ignoring case and surrounding spaces), a
    learner key exactly one learner of that course (by user id, or username,
    e-mail or full name ignoring case and surrounding spaces), and a
    learner-course may be named by one usable row only. -#}

with

outcomes as (

    select * from {{ ref('stg_outcomes__learner_outcomes') }}

),

identities as (

    select * from {{ ref('int_learner_identities') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

keyed_outcomes as (

    select
        *,
        case
            when learner_key_type = 'user_id' then trim(learner_key)
            else lower(trim(learner_key))
        end as learner_match_key,
        lower(trim(course_key)) as course_match_key

    from outcomes

),

keyed_identities as (

    select
        learner_course_id,
        course_id,
        {{ dbt.safe_cast('user_id', dbt.type_string()) }} as user_id_key,
        lower(trim(username)) as username_key,
        lower(trim(email)) as email_key,
        lower(full_name) as full_name_key

    from identities

),

course_candidates as (

    select
        keyed_outcomes.outcome_row_number,
        courses.course_id

    from keyed_outcomes
    inner join courses
        on
            (
                keyed_outcomes.course_key_type = 'course_id'
                and {{ dbt.safe_cast('courses.course_id', dbt.type_string()) }} = keyed_outcomes.course_match_key
            )
            or (
                keyed_outcomes.course_key_type = 'short_name'
                and lower(trim(courses.course_short_name)) = keyed_outcomes.course_match_key
            )

),

course_matches as (

    select
        outcome_row_number,
        count(*) as courses_found,
        min(course_id) as course_id

    from course_candidates
    group by outcome_row_number

),

learner_candidates as (

    select
        keyed_outcomes.outcome_row_number,
        keyed_identities.learner_course_id

    from keyed_outcomes
    inner join course_matches
        on
            keyed_outcomes.outcome_row_number = course_matches.outcome_row_number
            and course_matches.courses_found = 1
    inner join keyed_identities
        on
            course_matches.course_id = keyed_identities.course_id
            and keyed_outcomes.learner_match_key = case keyed_outcomes.learner_key_type
                when 'user_id' then keyed_identities.user_id_key
                when 'username' then keyed_identities.username_key
                when 'email' then keyed_identities.email_key
                when 'full_name' then keyed_identities.full_name_key
            end

),

learner_matches as (

    select
        outcome_row_number,
        count(*) as learners_found,
        min(learner_course_id) as learner_course_id

    from learner_candidates
    group by outcome_row_number

),

-- A learner-course named by two usable rows is not guessed between them.
claims as (

    select
        learner_matches.learner_course_id,
        count(*) as usable_rows

    from learner_matches
    inner join keyed_outcomes using (outcome_row_number)
    where learner_matches.learners_found = 1 and keyed_outcomes.outcome_problem is null
    group by learner_matches.learner_course_id

),

statuses as (

    select
        keyed_outcomes.*,
        learner_matches.learner_course_id as named_learner_course_id,
        cast(coalesce(course_matches.courses_found, 0) as integer) as courses_found,
        cast(coalesce(learner_matches.learners_found, 0) as integer) as learners_found,
        case when course_matches.courses_found = 1 then course_matches.course_id end as matched_course_id,
        case
            when keyed_outcomes.outcome_problem is not null then 'no_usable_outcome'
            when course_matches.courses_found is null then 'no_such_course'
            when course_matches.courses_found > 1 then 'ambiguous_course'
            when learner_matches.learners_found is null then 'no_such_learner'
            when learner_matches.learners_found > 1 then 'ambiguous_learner'
            when claims.usable_rows > 1 then 'duplicate_outcome'
            else 'matched'
        end as match_status

    from keyed_outcomes
    left join course_matches using (outcome_row_number)
    left join learner_matches using (outcome_row_number)
    left join claims using (learner_course_id)

),

matched as (

    select
        *,
        case when match_status = 'matched' then named_learner_course_id end as learner_course_id

    from statuses

),

final as (

    select
        ---------- ids
        outcome_row_number,
        learner_course_id,
        matched_course_id as course_id,
        ---------- strings
        learner_key,
        learner_key_type,
        course_key,
        course_key_type,
        match_status,
        outcome_value,
        outcome_problem,
        outcome_name,
        source_file,
        ---------- numerics
        grade,
        pass_mark,
        courses_found,
        learners_found,
        ---------- booleans
        is_positive,
        ---------- timestamps
        loaded_at

    from matched

)

select * from final
