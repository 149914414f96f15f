with

quiz_attempts as (

    select * from {{ ref('stg_moodle__quiz_attempts') }}

),

quizzes as (

    select * from {{ ref('stg_moodle__quizzes') }}

),

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

final as (

    select
        ---------- ids
        quiz_attempts.quiz_attempt_id,
        -- Null for an attempt by someone who is not a learner of the course.
        course_learners.learner_course_id,
        quiz_attempts.user_id,
        quizzes.course_id,
        quiz_attempts.quiz_id,
        ---------- timestamps
        quiz_attempts.finished_at,
        ---------- numerics
        quiz_attempts.attempt_number,
        quizzes.grading_method,
        case
            when quizzes.max_marks > 0 then quiz_attempts.marks / quizzes.max_marks
        end as score_share

    from quiz_attempts
    inner join quizzes using (quiz_id)
    left join course_learners
        on
            quiz_attempts.user_id = course_learners.user_id
            and quizzes.course_id = course_learners.course_id
    -- Finished, real attempts known at the as-of moment; those at a quiz
    -- without marks (or not yet marked) count as attempts with no score.
    where
        quiz_attempts.attempt_state = 'finished'
        and not quiz_attempts.is_preview
        and quiz_attempts.finished_at <= {{ as_of() }}

)

select * from final
