{#- The evaluation against the school's outcomes on engines without dbt Python
    models: the same table as the Python model of that name on DuckDB, the
    point figures computed in SQL. No bootstrap here: the intervals are null,
    and a learner a score cannot rank that week (the starter score in a course
    week too small) is left out of that score's figures rather than counted at
    the week's median. -#}
{%- set high = var('risk_band_thresholds')['high'] %}
{%- set medium = var('risk_band_thresholds')['medium'] %}
{%- set double = type_double() %}
{%- set text = dbt.type_string() %}
{#- name, label, is a baseline, is a probability, expression over joined -#}
{%- set scores = [
    ('risk_score', 'risk score served (dropout_probability)', false, true, 'dropout_probability'),
    ('starter_score', 'starter score', false, true, 'starter_score'),
    ('rule_based_score', 'rule-based score', true, true, 'rule_based_score'),
    ('minus_events_so_far', 'fewest events so far', true, false, '-events_so_far'),
    ('minus_active_days_so_far', 'fewest active days so far', true, false, '-active_days_so_far'),
    ('days_since_last_activity', 'most days since the last activity', true, false, 'days_since_last_activity'),
] %}

with

outcomes as (

    select * from {{ ref('int_learner_outcomes_matched') }}

),

risk_scores as (

    select * from {{ ref('fct_learner_risk_scores') }}

),

features as (

    select * from {{ ref('int_risk_features') }}

),

matched as (

    select
        learner_course_id,
        case when is_positive then 1 else 0 end as dropped_out

    from outcomes
    where match_status = 'matched'

),

outcome_counts as (

    select
        max(outcome_name) as outcome_name,
        count(*) as outcome_rows,
        sum(case when match_status = 'matched' then 1 else 0 end) as matched_learner_courses

    from outcomes

),

joined as (

    select
        risk_scores.learner_week_id,
        risk_scores.course_week_number,
        risk_scores.score_method,
        risk_scores.dropout_probability,
        risk_scores.starter_score,
        risk_scores.rule_based_score,
        features.course_progress_share,
        features.events_so_far,
        features.active_days_so_far,
        features.days_since_last_activity,
        matched.dropped_out

    from risk_scores
    inner join matched using (learner_course_id)
    inner join features using (learner_week_id)

),

scored as (

    {%- for name, label, is_baseline, is_probability, expression in scores %}
    select
        '{{ name }}' as score_name,
        learner_week_id,
        course_week_number,
        course_progress_share,
        dropped_out,
        cast({{ expression }} as {{ double }}) as risk_score
    from joined
    where {{ expression }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

{{ ranking_curves('scored', ['score_name', 'course_week_number']) }},

plain as (

    select
        score_name,
        course_week_number,
        count(*) as learner_courses,
        sum(dropped_out) as positives,
        avg(course_progress_share) as course_progress_share,
        avg((risk_score - dropped_out) * (risk_score - dropped_out)) as squared_error,
        sum(case when risk_score >= {{ high }} then dropped_out else 0 end) as high_positives,
        sum(case when risk_score >= {{ high }} then 1 else 0 end) as high_learners,
        sum(case when risk_score >= {{ medium }} then dropped_out else 0 end) as flagged_positives,
        sum(case when risk_score >= {{ medium }} then 1 else 0 end) as flagged_learners

    from scored
    group by score_name, course_week_number

),

served_methods as (

    select distinct
        course_week_number,
        score_method

    from joined

),

methods_per_week as (

    select
        course_week_number,
        {{ dbt.listagg('score_method', "', '", 'order by score_method') }} as score_methods

    from served_methods
    group by course_week_number

),

figures as (

    select
        plain.*,
        case
            {%- for name, label, is_baseline, is_probability, expression in scores %}
            when plain.score_name = '{{ name }}' then {{ loop.index }}
            {%- endfor %}
        end as score_order,
        case
            {%- for name, label, is_baseline, is_probability, expression in scores %}
            when plain.score_name = '{{ name }}' then '{{ label }}'
            {%- endfor %}
        end as score_label,
        plain.score_name in (
            {%- for name, label, is_baseline, is_probability, expression in scores if is_baseline -%}
            '{{ name }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        ) as is_baseline,
        plain.score_name in (
            {%- for name, label, is_baseline, is_probability, expression in scores if is_probability -%}
            '{{ name }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        ) as is_probability,
        case
            when plain.positives > 0 and plain.positives < plain.learner_courses
                then curves.ranked_pairs / (1.0 * plain.positives * (plain.learner_courses - plain.positives))
        end as roc_auc,
        case
            when plain.positives > 0 and plain.positives < plain.learner_courses
                then curves.precision_sum / plain.positives
        end as pr_auc

    from plain
    inner join curves using (score_name, course_week_number)

),

-- The week's best baseline; on a tie the first in the listed order.
best_baselines as (

    select
        course_week_number,
        score_name as best_baseline_name,
        roc_auc as best_baseline_roc_auc,
        row_number() over (
            partition by course_week_number order by roc_auc desc, score_order
        ) as baseline_rank

    from figures
    where is_baseline and roc_auc is not null

),

final as (

    select
        ---------- ids
        cast(
            {{ dbt.concat(['figures.score_name', "'-'", dbt.safe_cast('figures.course_week_number', text)]) }}
            as {{ text }}
        ) as evaluation_row_id,
        ---------- strings
        cast(outcome_counts.outcome_name as {{ text }}) as outcome_name,
        cast(figures.score_name as {{ text }}) as score_name,
        cast(figures.score_label as {{ text }}) as score_label,
        cast(
            case when figures.score_name = 'risk_score' then methods_per_week.score_methods end
            as {{ text }}
        ) as score_methods,
        cast(
            case when not figures.is_baseline then best_baselines.best_baseline_name end as {{ text }}
        ) as best_baseline_name,
        ---------- numerics
        cast(figures.course_week_number as integer) as course_week_number,
        cast(figures.course_progress_share as {{ double }}) as course_progress_share,
        cast(figures.learner_courses as integer) as learner_courses,
        cast(figures.positives as integer) as positives,
        cast(figures.roc_auc as {{ double }}) as roc_auc,
        cast(null as {{ double }}) as roc_auc_low,
        cast(null as {{ double }}) as roc_auc_high,
        cast(figures.pr_auc as {{ double }}) as pr_auc,
        cast(case when figures.is_probability then figures.squared_error end as {{ double }}) as brier_score,
        cast(
            case
                when figures.is_probability and figures.positives > 0
                    then 1.0 * figures.high_positives / figures.positives
            end as {{ double }}
        ) as high_band_recall,
        cast(
            case
                when figures.is_probability and figures.high_learners > 0
                    then 1.0 * figures.high_positives / figures.high_learners
            end as {{ double }}
        ) as high_band_precision,
        cast(
            case
                when figures.is_probability and figures.positives > 0
                    then 1.0 * figures.flagged_positives / figures.positives
            end as {{ double }}
        ) as high_or_medium_recall,
        cast(null as {{ double }}) as high_or_medium_recall_low,
        cast(null as {{ double }}) as high_or_medium_recall_high,
        cast(
            case
                when figures.is_probability and figures.flagged_learners > 0
                    then 1.0 * figures.flagged_positives / figures.flagged_learners
            end as {{ double }}
        ) as high_or_medium_precision,
        cast(
            case
                when not figures.is_baseline
                    then figures.roc_auc - best_baselines.best_baseline_roc_auc
            end as {{ double }}
        ) as roc_auc_gain,
        cast(null as {{ double }}) as roc_auc_gain_low,
        cast(null as {{ double }}) as roc_auc_gain_high,
        cast(null as integer) as bootstrap_samples,
        cast(outcome_counts.outcome_rows as integer) as outcome_rows,
        cast(outcome_counts.matched_learner_courses as integer) as matched_learner_courses,
        cast(outcome_counts.outcome_rows - outcome_counts.matched_learner_courses as integer)
            as unmatched_outcome_rows,
        ---------- booleans
        figures.is_baseline

    from figures
    cross join outcome_counts
    left join best_baselines
        on
            figures.course_week_number = best_baselines.course_week_number
            and best_baselines.baseline_rank = 1
    left join methods_per_week
        on figures.course_week_number = methods_per_week.course_week_number

)

select * from final
