with

quiz_attempts as (

    select * from {{ ref('stg_moodle__quiz_attempts') }}

),

quizzes as (

    select * from {{ ref('stg_moodle__quizzes') }}

),

final as (

    select
        ---------- ids
        quiz_attempts.quiz_attempt_id,
        {{ composite_key(['quiz_attempts.user_id', 'quizzes.course_id']) }} as learner_course_id,
        quiz_attempts.user_id,
        quizzes.course_id,
        quiz_attempts.quiz_id,
        ---------- numerics
        quiz_attempts.attempt_number,
        quizzes.grading_method,
        quiz_attempts.marks / quizzes.max_marks as score_share,
        ---------- timestamps
        quiz_attempts.finished_at

    from quiz_attempts
    inner join quizzes
        on quiz_attempts.quiz_id = quizzes.quiz_id
    -- Finished, real attempts at quizzes that carry marks, known at the as-of moment.
    where
        quiz_attempts.attempt_state = 'finished'
        and not quiz_attempts.is_preview
        and quizzes.max_marks > 0
        and quiz_attempts.finished_at <= {{ as_of() }}

)

select * from final
