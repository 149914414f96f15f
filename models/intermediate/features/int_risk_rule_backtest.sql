{#- How well the starter and rule-based scores ranked the learner-courses
    whose outcome is known, per score, cohort and course week: the metrics of
    moodle_analytics.risk.metrics in portable SQL, for the in-database
    rpt_risk_backtest and rpt_risk_model_comparison of engines without Python
    models. ROC AUC counts ties as half (as scikit-learn), PR AUC is average
    precision over the distinct scores, F1 flags scores of 0.5 and more. -#}

with

rule_scores as (

    select * from {{ ref('int_risk_rule_scores') }}

),

features as (

    select * from {{ ref('int_risk_features') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

labelled as (

    select
        rule_scores.learner_week_id,
        rule_scores.course_week_number,
        rule_scores.starter_score,
        rule_scores.rule_based_score,
        case when features.is_dropout then 1 else 0 end as dropped_out,
        -- A cohort: the courses that started in the same month.
        case
            when courses.starts_at is null then 'no start date'
            else
                {{ dbt.concat([
                    dbt.safe_cast('cast(extract(year from courses.starts_at) as integer)', dbt.type_string()),
                    "'-'",
                    "lpad(" ~ dbt.safe_cast('cast(extract(month from courses.starts_at) as integer)', dbt.type_string())
                    ~ ", 2, '0')",
                ]) }}
        end as cohort_name

    from rule_scores
    inner join features using (learner_week_id)
    inner join courses
        on rule_scores.course_id = courses.course_id
    where features.is_outcome_known and features.is_dropout is not null

),

-- The scores evaluated: starter, the starter score where it is known (where
-- it is served); rule_based, the rule-based score on every week (the
-- baseline); rule_based_served, the rule-based score where it is served.
scored as (

    {%- for score_name, score_column, condition in [
        ('starter', 'starter_score', 'starter_score is not null'),
        ('rule_based', 'rule_based_score', none),
        ('rule_based_served', 'rule_based_score', 'starter_score is null'),
    ] %}
    select
        '{{ score_name }}' as score_name,
        learner_week_id,
        course_week_number,
        cohort_name,
        {{ score_column }} as risk_score,
        dropped_out
    from labelled
    {%- if condition %}
    where {{ condition }}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

-- Every learner-week counts in its cohort and in 'all', per week and (for
-- 'all') over all weeks (course_week_number null).
grouped as (

    {%- for cohort_name, course_week_number in [
        ('cohort_name', 'course_week_number'),
        ("'all'", 'course_week_number'),
        ("'all'", 'null'),
    ] %}
    select
        score_name,
        {{ cohort_name }} as cohort_name,
        {{ course_week_number }} as course_week_number,
        learner_week_id,
        risk_score,
        dropped_out
    from scored
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

{{ ranking_curves('grouped', ['score_name', 'cohort_name', 'course_week_number']) }},

ranked as (

    select
        *,
        row_number() over (
            partition by score_name, cohort_name, course_week_number
            order by risk_score desc, learner_week_id asc
        ) as risk_rank,
        count(*) over (partition by score_name, cohort_name, course_week_number) as group_learners

    from grouped

),

top_decile as (

    select
        score_name,
        cohort_name,
        course_week_number,
        avg(cast(dropped_out as {{ type_double() }})) as top_decile_precision

    from ranked
    where risk_rank <= ceiling(0.1 * group_learners)
    group by score_name, cohort_name, course_week_number

),

plain as (

    select
        score_name,
        cohort_name,
        course_week_number,
        count(*) as learner_courses,
        sum(dropped_out) as dropouts,
        sum(case when risk_score >= 0.5 and dropped_out = 1 then 1 else 0 end) as true_positives,
        sum(case when risk_score >= 0.5 and dropped_out = 0 then 1 else 0 end) as false_positives,
        sum(case when risk_score < 0.5 and dropped_out = 1 then 1 else 0 end) as false_negatives,
        avg((risk_score - dropped_out) * (risk_score - dropped_out)) as brier_score,
        avg(cast(dropped_out as {{ type_double() }})) as dropout_rate,
        avg(risk_score) as mean_score

    from grouped
    group by score_name, cohort_name, course_week_number

),

final as (

    select
        ---------- ids
        {{ dbt.concat([
            'plain.score_name',
            "'-'",
            'plain.cohort_name',
            "'-'",
            "coalesce(" ~ dbt.safe_cast('plain.course_week_number', dbt.type_string()) ~ ", 'all')",
        ]) }} as rule_backtest_row_id,
        ---------- strings
        plain.score_name,
        plain.cohort_name,
        ---------- numerics
        cast(plain.course_week_number as integer) as course_week_number,
        cast(plain.learner_courses as integer) as learner_courses,
        cast(plain.dropouts as integer) as dropouts,
        cast(
            case
                when plain.dropouts > 0 and plain.dropouts < plain.learner_courses
                    then curves.ranked_pairs / (1.0 * plain.dropouts * (plain.learner_courses - plain.dropouts))
            end as {{ type_double() }}
        ) as roc_auc,
        cast(
            case
                when plain.dropouts > 0 and plain.dropouts < plain.learner_courses
                    then curves.precision_sum / plain.dropouts
            end as {{ type_double() }}
        ) as pr_auc,
        cast(
            case
                when 2 * plain.true_positives + plain.false_positives + plain.false_negatives > 0
                    then
                        2.0 * plain.true_positives
                        / (2 * plain.true_positives + plain.false_positives + plain.false_negatives)
                else 0
            end as {{ type_double() }}
        ) as f1_score,
        cast(top_decile.top_decile_precision as {{ type_double() }}) as top_decile_precision,
        cast(plain.brier_score as {{ type_double() }}) as brier_score,
        cast(plain.dropout_rate as {{ type_double() }}) as dropout_rate,
        cast(plain.mean_score as {{ type_double() }}) as mean_score

    from plain
    inner join curves
        on
            plain.score_name = curves.score_name
            and plain.cohort_name = curves.cohort_name
            and coalesce(plain.course_week_number, 0) = coalesce(curves.course_week_number, 0)
    inner join top_decile
        on
            plain.score_name = top_decile.score_name
            and plain.cohort_name = top_decile.cohort_name
            and coalesce(plain.course_week_number, 0) = coalesce(top_decile.course_week_number, 0)

)

select * from final
