with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

grades as (

    select * from {{ ref('int_grades_normalised') }}

),

quiz_grades as (

    select * from {{ ref('stg_moodle__quiz_grades') }}

),

quizzes as (

    select * from {{ ref('stg_moodle__quizzes') }}

),

course_completions as (

    select * from {{ ref('stg_moodle__course_completions') }}

),

course_grades as (

    select
        user_id,
        course_id,
        grade_share,
        pass_share,
        is_passing

    from grades
    where item_type = 'course'

),

-- A quiz's own final grade (mdl_quiz_grades, by the quiz's grading method)
-- is the truth; the gradebook's copy stands in where the quiz table has no
-- row (a site rebuilt from the Logs report download has only the gradebook).
quiz_table_shares as (

    select
        quiz_grades.user_id,
        quizzes.course_id,
        quiz_grades.quiz_id,
        case
            when quiz_grades.grade < 0 then 0
            when quiz_grades.grade > quizzes.max_grade then 1
            else quiz_grades.grade / quizzes.max_grade
        end as grade_share

    from quiz_grades
    inner join quizzes using (quiz_id)
    where quizzes.max_grade > 0 and quiz_grades.grade is not null

),

gradebook_quiz_shares as (

    select
        user_id,
        course_id,
        item_instance_id as quiz_id,
        grade_share

    from grades
    where item_module = 'quiz'

),

quiz_shares as (

    select
        coalesce(quiz_table_shares.user_id, gradebook_quiz_shares.user_id) as user_id,
        coalesce(quiz_table_shares.course_id, gradebook_quiz_shares.course_id) as course_id,
        coalesce(quiz_table_shares.grade_share, gradebook_quiz_shares.grade_share) as grade_share

    from quiz_table_shares
    full outer join gradebook_quiz_shares
        on
            quiz_table_shares.user_id = gradebook_quiz_shares.user_id
            and quiz_table_shares.quiz_id = gradebook_quiz_shares.quiz_id

),

quiz_averages as (

    select
        user_id,
        course_id,
        avg(grade_share) as quiz_average_grade_share

    from quiz_shares
    group by user_id, course_id

),

final as (

    select
        ---------- ids
        course_learners.learner_course_id,
        ---------- numerics
        course_grades.grade_share as final_grade_share,
        course_grades.pass_share,
        quiz_averages.quiz_average_grade_share,
        ---------- booleans
        course_grades.is_passing,
        ---------- timestamps
        course_completions.completed_at

    from course_learners
    left join course_grades using (user_id, course_id)
    left join quiz_averages using (user_id, course_id)
    left join course_completions
        on
            course_learners.user_id = course_completions.user_id
            and course_learners.course_id = course_completions.course_id
            and course_completions.completed_at <= {{ as_of() }}

)

select * from final
