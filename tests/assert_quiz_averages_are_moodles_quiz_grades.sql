-- A learner's quiz average in their latest week is the average of their quiz
-- grades as Moodle keeps them (mdl_quiz_grades, by each quiz's grading method),
-- each a share of the quiz's maximum; Moodle stores grades to 5 decimals.
with

latest_weeks as (

    select
        learner_course_id,
        user_id,
        course_id,
        cumulative_quiz_average_score,
        row_number() over (partition by learner_course_id order by course_week_number desc) as recency
    from {{ ref('int_learner_weeks_cumulated') }}

),

moodle_averages as (

    select
        quiz_grades.user_id,
        quizzes.course_id,
        avg(quiz_grades.grade / quizzes.max_grade) as quiz_average
    from {{ ref('stg_moodle__quiz_grades') }} as quiz_grades
    inner join {{ ref('stg_moodle__quizzes') }} as quizzes
        on quiz_grades.quiz_id = quizzes.quiz_id
    where quizzes.max_grade > 0 and quizzes.max_marks > 0
    group by quiz_grades.user_id, quizzes.course_id

)

select
    latest_weeks.learner_course_id,
    latest_weeks.cumulative_quiz_average_score,
    moodle_averages.quiz_average
from latest_weeks
left join moodle_averages
    on
        latest_weeks.user_id = moodle_averages.user_id
        and latest_weeks.course_id = moodle_averages.course_id
where
    latest_weeks.recency = 1
    and (
        (latest_weeks.cumulative_quiz_average_score is null) <> (moodle_averages.quiz_average is null)
        or abs(latest_weeks.cumulative_quiz_average_score - moodle_averages.quiz_average) > 0.0001
    )
