with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

followed as (

    select
        *,
        -- A learner is followed from enrolment until the course ends, the
        -- enrolment ends or the as-of moment, whichever comes first.
        case
            when enrolment_ends_at < course_ends_at and enrolment_ends_at < {{ as_of() }}
                then enrolment_ends_at
            when course_ends_at < {{ as_of() }} then course_ends_at
            else {{ as_of() }}
        end as followed_until_at

    from course_learners

),

week_bounds as (

    select
        *,
        case
            when enrolled_at <= week_one_starts_at then 1
            else {{ week_number('week_one_starts_at', 'enrolled_at') }}
        end as first_week_number,
        case
            when followed_until_at = course_ends_at
                then {{ weeks_spanned('week_one_starts_at', 'course_ends_at') }}
            else {{ week_number('week_one_starts_at', add_seconds('followed_until_at', -1)) }}
        end as last_week_number

    from followed

),

-- Only as many numbers as the longest enrolment needs: the join below
-- compares every number with every learner-course.
week_numbers as (

    {{ integer_sequence('(select max(last_week_number) from week_bounds)') }}

),

final as (

    select
        ---------- ids
        {{ composite_key(['week_bounds.learner_course_id', 'week_numbers.n']) }} as learner_week_id,
        week_bounds.learner_course_id,
        week_bounds.learner_id,
        week_bounds.user_id,
        week_bounds.course_id,
        ---------- numerics
        week_numbers.n as course_week_number,
        ---------- booleans
        week_numbers.n = week_bounds.first_week_number as is_first_followed_week,
        ---------- timestamps
        week_bounds.enrolled_at,
        week_bounds.week_one_starts_at,
        {{ add_seconds('week_bounds.week_one_starts_at', '604800 * (week_numbers.n - 1)') }}
            as week_starts_at,
        {{ add_seconds('week_bounds.week_one_starts_at', '604800 * week_numbers.n') }}
            as week_ends_at

    from week_bounds
    inner join week_numbers
        on week_numbers.n between week_bounds.first_week_number and week_bounds.last_week_number

)

select * from final
