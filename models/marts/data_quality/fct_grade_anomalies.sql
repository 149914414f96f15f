with

grades as (

    select * from {{ ref('int_grades_normalised') }}

),

-- A grade outside its item's range (500 of 100: a bad import or a scale
-- changed after grading) is clipped for the features; here it is shown.
out_of_range as (

    select
        *,
        case
            when final_grade > grade_max then 'above_maximum'
            when final_grade < grade_min then 'below_minimum'
        end as reason

    from grades

),

final as (

    select
        ---------- ids
        grade_id,
        grade_item_id,
        -- Anomalies are few: hashed per row, as in fct_log_quarantine.
        {{ pseudonymous_id('user_id') }} as learner_id,
        {{ moodle_user_id_if_pii('user_id') }} as moodle_user_id,
        course_id,
        ---------- strings
        reason,
        grade_item_name,
        ---------- numerics
        cast(final_grade as {{ type_double() }}) as final_grade,
        cast(grade_min as {{ type_double() }}) as grade_min,
        cast(grade_max as {{ type_double() }}) as grade_max,
        ---------- timestamps
        graded_at

    from out_of_range
    where reason is not null

)

select * from final
