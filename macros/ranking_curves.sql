{#- The CTEs score_levels, cumulated and curves: per group of `scored` (a CTE
    with the group columns, risk_score and dropped_out 0/1), ranked_pairs
    (pairs of a 0 and a 1 where the 1 scores higher, ties counting half) and
    precision_sum (the precision at each distinct score, weighted by the
    recall it adds). ROC AUC = ranked_pairs / (ones x zeros) and PR AUC =
    precision_sum / ones, as scikit-learn computes them. -#}
{% macro ranking_curves(scored, groups) -%}
{%- set group_list = groups | join(', ') -%}
score_levels as (

    select
        {{ group_list }},
        risk_score,
        count(*) as learners_at,
        sum(dropped_out) as dropouts_at

    from {{ scored }}
    group by {{ group_list }}, risk_score

),

cumulated as (

    select
        *,
        sum(dropouts_at) over (
            partition by {{ group_list }}
            order by risk_score desc
            rows between unbounded preceding and current row
        ) as dropouts_at_or_above,
        sum(learners_at) over (
            partition by {{ group_list }}
            order by risk_score desc
            rows between unbounded preceding and current row
        ) as learners_at_or_above

    from score_levels

),

curves as (

    select
        {{ group_list }},
        -- Pairs of a 0 and a 1 scored higher (ties: half).
        sum(
            (learners_at - dropouts_at) * (dropouts_at_or_above - dropouts_at + 0.5 * dropouts_at)
        ) as ranked_pairs,
        -- Precision at each score, weighted by the recall it adds.
        sum(1.0 * dropouts_at * dropouts_at_or_above / learners_at_or_above) as precision_sum

    from cumulated
    group by {{ group_list }}

)
{%- endmacro %}
