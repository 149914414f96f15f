with

learner_courses as (

    select * from {{ ref('int_learner_courses_summarised') }}

),

final as (

    select
        {{ contract_columns() }}

    from learner_courses

)

select * from final
