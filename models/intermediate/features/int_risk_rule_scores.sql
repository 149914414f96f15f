{#- The risk score served on engines without Python models (the starter
    score, or the documented rule-based score where a course week is too
    small to rank), with its band, segment and reasons: the in-database twin
    of python_scripts/moodle_analytics/risk/rules.py, which the tests hold it
    equal to, and what in_database/fct_learner_risk_scores.sql serves. -#}
{%- set high = var('risk_band_thresholds')['high'] %}
{%- set medium = var('risk_band_thresholds')['medium'] %}
{%- set pass_share = var('default_pass_share') %}
{%- set double = type_double() %}

with

features as (

    select * from {{ ref('int_risk_features') }}

),

starter_scores as (

    select * from {{ ref('int_risk_starter_scores') }}

),

with_starter as (

    select
        features.*,
        starter_scores.starter_score,
        starter_scores.active_weeks_so_far,
        starter_scores.course_median_days_since_last_activity,
        starter_scores.course_median_events_so_far,
        starter_scores.active_week_share,
        starter_scores.course_median_active_week_share,
        starter_scores.course_median_submissions

    from features
    inner join starter_scores using (learner_week_id)

),

rule_scored as (

    select
        *,
        floor(
            (
                0.40 * (
                    cast(
                        case when days_since_last_activity > 21 then 21 else days_since_last_activity end
                        as {{ double }}
                    )
                    / 21
                )
                + 0.25 * coalesce(deadlines_missing_share, 0)
                + 0.20 * (1 - coalesce(events_last_14_days_percentile, 0.5))
                + 0.15 * coalesce(1 - quiz_average_so_far, 0)
            ) * 10000 + 0.5
        ) / 10000 as rule_based_score,
        max(course_week_number) over (partition by learner_course_id) as latest_week_number

    from with_starter

),

-- The starter score wherever the course week has enough learners to rank.
scored as (

    select
        *,
        coalesce(starter_score, rule_based_score) as dropout_probability,
        case when starter_score is null then 'rule_based' else 'starter' end as score_method

    from rule_scored

),

banded as (

    select
        *,
        case
            when dropout_probability >= {{ high }} then 'high'
            when dropout_probability >= {{ medium }} then 'medium'
            else 'low'
        end as risk_band

    from scored

),

segmented as (

    select
        *,
        case
            when
                risk_band = 'high'
                or quiz_average_so_far < {{ pass_share }}
                or (deadlines_due >= 3 and deadlines_missing_share > 0.5)
                then 'struggling'
            when
                risk_band = 'low'
                and deadlines_missing = 0
                and (
                    quiz_average_so_far is null
                    or quiz_average_so_far >= coalesce(course_median_quiz_average, {{ pass_share }})
                )
                and (events_last_14_days_percentile is null or events_last_14_days_percentile >= 0.5)
                then 'doing_well'
            else 'doing_ok'
        end as segment

    from banded

),

-- One row per reason that applies; severity orders them, ties by reason_order.
candidates as (

    select
        learner_week_id,
        1 as reason_order,
        case
            when days_since_expected_start >= 14 then 1.0
            else cast(days_since_expected_start as {{ double }}) / 14
        end as severity,
        {{ dbt.concat([
            "'no activity yet, '",
            dbt.safe_cast('days_since_expected_start', dbt.type_string()),
            "' days after the start'",
        ]) }} as reason_text
    from segmented
    where not has_been_active and days_since_expected_start >= 3

    union all

    -- Inactivity judged against the course's median learner that week.
    select
        learner_week_id,
        2 as reason_order,
        case
            when days_since_last_activity - coalesce(course_median_days_since_last_activity, 0) >= 21 then 1.0
            else
                (days_since_last_activity - coalesce(course_median_days_since_last_activity, 0))
                / cast(21 as {{ double }})
        end as severity,
        {{ dbt.concat([
            "'no activity for '",
            dbt.safe_cast('days_since_last_activity', dbt.type_string()),
            "' days'",
            "case when course_median_days_since_last_activity is null then '' "
            ~ "when floor(course_median_days_since_last_activity + 0.5) = 0 "
            ~ "then ' while the course median learner was active today' else "
            ~ dbt.concat([
                "' while the course median learner was active '",
                dbt.safe_cast('cast(floor(course_median_days_since_last_activity + 0.5) as integer)', dbt.type_string()),
                "case when floor(course_median_days_since_last_activity + 0.5) = 1 then ' day ago' else ' days ago' end",
            ]) ~ " end",
        ]) }} as reason_text
    from segmented
    where
        has_been_active
        and days_since_last_activity >= 7
        and (
            course_median_days_since_last_activity is null
            or days_since_last_activity - course_median_days_since_last_activity >= 7
        )

    union all

    select
        learner_week_id,
        3 as reason_order,
        cast(deadlines_missing as {{ double }}) / deadlines_due as severity,
        {{ dbt.concat([
            dbt.safe_cast('deadlines_missing', dbt.type_string()),
            "' of '",
            dbt.safe_cast('deadlines_due', dbt.type_string()),
            "case when deadlines_due = 1 then ' due activity' else ' due activities' end",
            "' not handed in'",
        ]) }} as reason_text
    from segmented
    where deadlines_missing >= 1

    union all

    select
        learner_week_id,
        4 as reason_order,
        case
            when quiz_gap * 2 >= 1 then 1.0
            else 2 * quiz_gap
        end as severity,
        case
            when course_median_quiz_average is null
                then {{ dbt.concat([
                    "'quiz average '",
                    dbt.safe_cast('cast(floor(quiz_average_so_far * 100 + 0.5) as integer)', dbt.type_string()),
                    "'% against a pass mark of '",
                    dbt.safe_cast('cast(floor(' ~ pass_share ~ ' * 100 + 0.5) as integer)', dbt.type_string()),
                    "'%'",
                ]) }}
            else {{ dbt.concat([
                "'quiz average '",
                dbt.safe_cast('cast(floor(quiz_average_so_far * 100 + 0.5) as integer)', dbt.type_string()),
                "'% against a course median of '",
                dbt.safe_cast('cast(floor(course_median_quiz_average * 100 + 0.5) as integer)', dbt.type_string()),
                "'%'",
            ]) }}
        end as reason_text
    from (
        select
            *,
            case
                when coalesce(course_median_quiz_average, {{ pass_share }}) > {{ pass_share }}
                    then coalesce(course_median_quiz_average, {{ pass_share }}) - quiz_average_so_far
                else {{ pass_share }} - quiz_average_so_far
            end as quiz_gap
        from segmented
    ) as with_quiz_gap
    where
        quiz_average_so_far is not null
        and (quiz_average_so_far < {{ pass_share }} or quiz_average_so_far < course_median_quiz_average - 0.1)

    union all

    select
        learner_week_id,
        5 as reason_order,
        0.75 * (1 - events_last_14_days / course_median_events_last_14_days) as severity,
        {{ dbt.concat([
            dbt.safe_cast('events_last_14_days', dbt.type_string()),
            "case when events_last_14_days = 1 then ' event' else ' events' end",
            "' in the last 14 days against a course median of '",
            dbt.safe_cast('cast(floor(course_median_events_last_14_days + 0.5) as integer)', dbt.type_string()),
        ]) }} as reason_text
    from segmented
    where
        events_last_14_days_percentile <= 0.25
        and course_median_events_last_14_days is not null
        and events_last_14_days < course_median_events_last_14_days

    union all

    select
        learner_week_id,
        6 as reason_order,
        0.7 * (1 - activity_trend_ratio) as severity,
        {{ dbt.concat([
            dbt.safe_cast('events_last_7_days', dbt.type_string()),
            "case when events_last_7_days = 1 then ' event' else ' events' end",
            "' in the last 7 days against an earlier average of '",
            dbt.safe_cast('cast(floor(earlier_weekly_events + 0.5) as integer)', dbt.type_string()),
            "' a week'",
        ]) }} as reason_text
    from segmented
    where activity_trend_ratio <= 0.5 and earlier_weekly_events >= 5

    union all

    select
        learner_week_id,
        7 as reason_order,
        0.5 * deadlines_late / cast(deadlines_due as {{ double }}) as severity,
        {{ dbt.concat([
            dbt.safe_cast('deadlines_late', dbt.type_string()),
            "' of '",
            dbt.safe_cast('deadlines_due', dbt.type_string()),
            "case when deadlines_due = 1 then ' due activity' else ' due activities' end",
            "' handed in late'",
        ]) }} as reason_text
    from segmented
    where deadlines_late >= 1

    union all

    select
        learner_week_id,
        8 as reason_order,
        case
            when course_median_completion_share - completion_share_so_far >= 1 then 1.0
            else course_median_completion_share - completion_share_so_far
        end as severity,
        {{ dbt.concat([
            dbt.safe_cast('cast(floor(completion_share_so_far * 100 + 0.5) as integer)', dbt.type_string()),
            "'% of tracked activities completed against a course median of '",
            dbt.safe_cast('cast(floor(course_median_completion_share * 100 + 0.5) as integer)', dbt.type_string()),
            "'%'",
        ]) }} as reason_text
    from segmented
    where completion_share_so_far < course_median_completion_share - 0.15

    union all

    select
        learner_week_id,
        9 as reason_order,
        case
            when days_to_first_activity >= 14 then 0.5
            else cast(days_to_first_activity as {{ double }}) / 28
        end as severity,
        {{ dbt.concat([
            "'first activity '",
            dbt.safe_cast('days_to_first_activity', dbt.type_string()),
            "' days after the start'",
        ]) }} as reason_text
    from segmented
    where days_to_first_activity >= 7

    union all

    select
        learner_week_id,
        10 as reason_order,
        0.3 as severity,
        {{ dbt.concat([
            "'no forum posts against a course median of '",
            dbt.safe_cast('cast(floor(course_median_forum_posts + 0.5) as integer)', dbt.type_string()),
        ]) }} as reason_text
    from segmented
    where forum_posts_so_far = 0 and course_median_forum_posts >= 2

    union all

    select
        learner_week_id,
        11 as reason_order,
        0.8 * (course_median_active_week_share - active_week_share) as severity,
        {{ dbt.concat([
            "'active in '",
            dbt.safe_cast('active_weeks_so_far', dbt.type_string()),
            "' of '",
            dbt.safe_cast('weeks_followed', dbt.type_string()),
            "' weeks so far ('",
            dbt.safe_cast('cast(floor(active_week_share * 100 + 0.5) as integer)', dbt.type_string()),
            "'%) against a course median of '",
            dbt.safe_cast('cast(floor(course_median_active_week_share * 100 + 0.5) as integer)', dbt.type_string()),
            "'%'",
        ]) }} as reason_text
    from segmented
    where weeks_followed >= 3 and active_week_share <= course_median_active_week_share - 0.25

    union all

    select
        learner_week_id,
        12 as reason_order,
        0.6 * (1 - events_so_far / course_median_events_so_far) as severity,
        {{ dbt.concat([
            dbt.safe_cast('events_so_far', dbt.type_string()),
            "case when events_so_far = 1 then ' event' else ' events' end",
            "' so far against a course median of '",
            dbt.safe_cast('cast(floor(course_median_events_so_far + 0.5) as integer)', dbt.type_string()),
        ]) }} as reason_text
    from segmented
    where events_so_far_percentile <= 0.25 and events_so_far < course_median_events_so_far

    union all

    -- Where due dates are known, the due activities not handed in say more.
    select
        learner_week_id,
        13 as reason_order,
        0.6 * (1 - submissions_so_far / course_median_submissions) as severity,
        {{ dbt.concat([
            dbt.safe_cast('submissions_so_far', dbt.type_string()),
            "case when submissions_so_far = 1 then ' assignment' else ' assignments' end",
            "' handed in so far against a course median of '",
            dbt.safe_cast('cast(floor(course_median_submissions + 0.5) as integer)', dbt.type_string()),
        ]) }} as reason_text
    from segmented
    where coalesce(deadlines_due, 0) = 0 and submissions_so_far <= course_median_submissions - 1

),

ranked_reasons as (

    select
        learner_week_id,
        reason_text,
        row_number() over (
            partition by learner_week_id
            order by floor(cast(severity as {{ double }}) * 10000 + 0.5) desc, reason_order
        ) as reason_rank

    from candidates

),

top_reasons as (

    select
        learner_week_id,
        max(case when reason_rank = 1 then reason_text end) as reason_1,
        max(case when reason_rank = 2 then reason_text end) as reason_2,
        max(case when reason_rank = 3 then reason_text end) as reason_3

    from ranked_reasons
    where reason_rank <= 3
    group by learner_week_id

),

final as (

    select
        ---------- ids
        segmented.learner_week_id,
        segmented.learner_course_id,
        segmented.learner_id,
        segmented.course_id,
        ---------- strings
        segmented.risk_band,
        segmented.segment,
        segmented.score_method,
        -- A learner at risk without any reason gets the recent activity as one.
        case
            when top_reasons.reason_1 is null and segmented.risk_band in ('high', 'medium')
                then
                    {{ dbt.concat([
                        dbt.safe_cast('segmented.events_last_14_days', dbt.type_string()),
                        "case when segmented.events_last_14_days = 1 then ' event' else ' events' end",
                        "' in the last 14 days'",
                        "case when segmented.course_median_events_last_14_days is null then '' else "
                        ~ dbt.concat([
                            "' against a course median of '",
                            dbt.safe_cast(
                                'cast(floor(segmented.course_median_events_last_14_days + 0.5) as integer)',
                                dbt.type_string(),
                            ),
                        ]) ~ " end",
                    ]) }}
            else top_reasons.reason_1
        end as reason_1,
        top_reasons.reason_2,
        top_reasons.reason_3,
        ---------- numerics
        segmented.course_week_number,
        cast(segmented.dropout_probability as {{ double }}) as dropout_probability,
        cast(segmented.starter_score as {{ double }}) as starter_score,
        cast(segmented.rule_based_score as {{ double }}) as rule_based_score,
        ---------- booleans
        segmented.course_week_number = segmented.latest_week_number as is_latest_week,
        segmented.is_complete_week,
        ---------- timestamps
        segmented.observed_at

    from segmented
    left join top_reasons using (learner_week_id)

)

select * from final
