-- One row per day from 2000-01-01 to 2049-12-31: the time spine MetricFlow joins
-- to when a query asks for days (or weeks, months) without data.
with

-- 1..10,000 and 1..2 from the project's portable integer sequence.
ten_thousand as (

    {{ integer_sequence(10000) }}

),

two as (

    {{ integer_sequence(2) }}

),

day_numbers as (

    select (two.n - 1) * 10000 + (ten_thousand.n - 1) as day_number

    from ten_thousand
    cross join two

),

final as (

    select
        ---------- dates
        cast({{ dbt.dateadd('day', 'day_number', "cast('2000-01-01' as date)") }} as date) as date_day

    from day_numbers
    -- 2000-01-01 plus 18,262 days is 2049-12-31.
    where day_number < 18263

)

select * from final
