with

learner_weeks as (

    select * from {{ ref('int_learner_weeks_cumulated') }}

),

final as (

    select
        {{ contract_columns() }}

    from learner_weeks

)

select * from final
