{#- Moodle's quiz grading methods (mdl_quiz.grademethod). -#}
{%- set grade_highest, grade_average, attempt_first, attempt_last = 1, 2, 3, 4 -%}

with

quiz_attempts as (

    select * from {{ ref('int_quiz_attempts_scored') }}

),

spine as (

    select * from {{ ref('int_learner_week_spine') }}

),

-- The course weeks in which the learner finished an attempt at a quiz.
quiz_weeks as (

    select
        spine.learner_week_id,
        spine.learner_course_id,
        spine.course_week_number,
        spine.week_ends_at,
        quiz_attempts.quiz_id,
        quiz_attempts.grading_method,
        count(*) as attempts_finished

    from quiz_attempts
    inner join spine
        on
            quiz_attempts.learner_course_id = spine.learner_course_id
            and quiz_attempts.finished_at >= spine.week_starts_at
            and quiz_attempts.finished_at < spine.week_ends_at
    group by
        spine.learner_week_id,
        spine.learner_course_id,
        spine.course_week_number,
        spine.week_ends_at,
        quiz_attempts.quiz_id,
        quiz_attempts.grading_method

),

-- Moodle grades a quiz from every finished attempt: all those finished by
-- the end of each such week.
attempts_so_far as (

    select
        quiz_weeks.learner_week_id,
        quiz_weeks.quiz_id,
        quiz_attempts.attempt_number,
        quiz_attempts.score_share

    from quiz_weeks
    inner join quiz_attempts
        on
            quiz_weeks.learner_course_id = quiz_attempts.learner_course_id
            and quiz_weeks.quiz_id = quiz_attempts.quiz_id
            and quiz_weeks.week_ends_at > quiz_attempts.finished_at

),

attempts_summarised as (

    select
        learner_week_id,
        quiz_id,
        max(score_share) as highest_share,
        avg(score_share) as average_share,
        min(attempt_number) as first_attempt_number,
        max(attempt_number) as last_attempt_number

    from attempts_so_far
    group by learner_week_id, quiz_id

),

-- The quiz's grade as Moodle computes mdl_quiz_grades, by its grading
-- method; first and last go by attempt number, as Moodle does.
graded as (

    select
        quiz_weeks.*,
        case quiz_weeks.grading_method
            when {{ grade_average }} then attempts_summarised.average_share
            when {{ attempt_first }} then first_attempts.score_share
            when {{ attempt_last }} then last_attempts.score_share
            else attempts_summarised.highest_share
        end as grade_share

    from quiz_weeks
    inner join attempts_summarised using (learner_week_id, quiz_id)
    left join attempts_so_far as first_attempts
        on
            attempts_summarised.learner_week_id = first_attempts.learner_week_id
            and attempts_summarised.quiz_id = first_attempts.quiz_id
            and attempts_summarised.first_attempt_number = first_attempts.attempt_number
    left join attempts_so_far as last_attempts
        on
            attempts_summarised.learner_week_id = last_attempts.learner_week_id
            and attempts_summarised.quiz_id = last_attempts.quiz_id
            and attempts_summarised.last_attempt_number = last_attempts.attempt_number

),

with_previous as (

    select
        *,
        lag(grade_share) over (
            partition by learner_course_id, quiz_id order by course_week_number
        ) as previous_grade_share

    from graded

),

final as (

    select
        ---------- ids
        {{ composite_key(['learner_week_id', 'quiz_id']) }} as learner_quiz_week_id,
        learner_week_id,
        learner_course_id,
        quiz_id,
        ---------- numerics
        cast(course_week_number as integer) as course_week_number,
        cast(grading_method as integer) as grading_method,
        cast(attempts_finished as integer) as attempts_finished,
        cast(grade_share as {{ type_double() }}) as grade_share,
        -- What this week changes in the sum and the count of the learner's
        -- quiz grades: summed over the weeks so far, they give the average.
        cast(coalesce(grade_share, 0) - coalesce(previous_grade_share, 0) as {{ type_double() }})
            as grade_share_change,
        cast(
            case when grade_share is not null then 1 else 0 end
            - case when previous_grade_share is not null then 1 else 0 end
            as integer
        ) as graded_quizzes_change

    from with_previous

)

select * from final
