{%- set urgent_days = var('intervention_urgent_days') -%}
{%- set recent_days = var('intervention_recent_days') -%}
{%- set percent_of = "cast(round(100 * {}) as integer)" -%}

with

risk_scores as (

    select * from {{ ref('fct_learner_risk_scores') }}

),

learner_courses as (

    select * from {{ ref('int_learner_courses_summarised') }}

),

learner_deadlines as (

    select * from {{ ref('int_learner_deadlines') }}

),

course_staff as (

    select * from {{ ref('int_course_staff') }}

),

courses as (

    select * from {{ ref('dim_courses') }}

),

reminders as (

    select * from {{ ref('fct_deadline_reminders') }}

),

user_contacts as (

    select * from {{ ref('int_user_contacts') }}

),

group_members_paired as (

    select * from {{ ref('int_group_members_paired') }}

),

-- The latest score of each learner of a running course who can still be
-- reached: an active enrolment and an open account.
at_risk as (

    select
        risk_scores.learner_week_id,
        risk_scores.learner_course_id,
        risk_scores.learner_id,
        risk_scores.course_id,
        risk_scores.course_week_number,
        risk_scores.dropout_probability,
        risk_scores.risk_band,
        risk_scores.segment,
        risk_scores.reason_1,
        risk_scores.reason_2,
        risk_scores.reason_3,
        risk_scores.score_method,
        risk_scores.model_name,
        learner_courses.final_grade_share,
        learner_courses.pass_share,
        learner_courses.first_activity_at,
        learner_courses.last_activity_at,
        learner_courses.enrolled_at,
        learner_courses.user_id

    from risk_scores
    inner join learner_courses using (learner_course_id)
    where
        risk_scores.is_latest_week
        and risk_scores.risk_band in {{ sql_list(var('intervention_risk_bands')) }}
        and not learner_courses.is_outcome_known
        and learner_courses.has_active_enrolment
        and not learner_courses.is_account_closed

),

-- The first activity due soon that the learner has not handed in (from the
-- reminder list, so both agree), as of the reminders' moment.
next_deadlines as (

    select
        learner_course_id,
        activity_name,
        activity_url_path,
        due_at,
        days_left,
        row_number() over (partition by learner_course_id order by due_at, activity_id) as due_order

    from reminders

),

recently_missed as (

    select
        learner_course_id,
        count(*) as deadlines_missed

    from learner_deadlines
    where
        deadline_status = 'missing'
        and due_at > {{ add_seconds(as_of(), -86400 * recent_days) }}
    group by learner_course_id

),

-- A teacher holding several owner roles in a course sees every learner
-- when one of them does.
owners as (

    select
        staff_id,
        user_id,
        course_id,
        min(case when is_limited_to_own_groups then 1 else 0 end) as is_limited_to_own_groups

    from course_staff
    where role_short_name in {{ sql_list(var('intervention_owner_roles')) }}
    group by staff_id, user_id, course_id

),

facts as (

    select
        at_risk.*,
        courses.course_name,
        courses.course_short_name,
        next_deadlines.activity_name as next_due_activity_name,
        next_deadlines.activity_url_path as next_due_activity_url_path,
        next_deadlines.due_at as next_due_at,
        next_deadlines.days_left as days_to_next_deadline,
        coalesce(recently_missed.deadlines_missed, 0) as deadlines_missed_recently,
        at_risk.first_activity_at is null as has_never_been_active,
        coalesce(next_deadlines.days_left < {{ urgent_days }}, false) as is_deadline_urgent,
        cast(
            {{ calendar_days_between('coalesce(at_risk.last_activity_at, at_risk.enrolled_at)', as_of()) }}
            as integer
        ) as days_inactive

    from at_risk
    inner join courses using (course_id)
    left join next_deadlines
        on
            at_risk.learner_course_id = next_deadlines.learner_course_id
            and next_deadlines.due_order = 1
    left join recently_missed
        on at_risk.learner_course_id = recently_missed.learner_course_id

),

-- One suggestion per learner, the first rule that applies.
suggested as (

    select
        *,
        case
            when has_never_been_active then 'check_access'
            when is_deadline_urgent then 'remind_deadline'
            when days_inactive >= {{ recent_days }} then 're_engage'
            when deadlines_missed_recently >= 2 then 'catch_up_plan'
            when final_grade_share < pass_share then 'academic_support'
            else 'check_in'
        end as action_code

    from facts

),

worded as (

    select
        *,
        case action_code
            when 'check_access' then {{ dbt.concat([
                "'Check the learner can get into the course: no activity since enrolling '",
                dbt.safe_cast('days_inactive', dbt.type_string()), "' days ago.'"]) }}
            when 'remind_deadline' then {{ dbt.concat([
                "'Remind them of '", 'next_due_activity_name', "', due in '",
                dbt.safe_cast('days_to_next_deadline', dbt.type_string()), "' day(s) and not handed in.'"]) }}
            when 're_engage' then {{ dbt.concat([
                "'Get in touch personally: no activity for '",
                dbt.safe_cast('days_inactive', dbt.type_string()), "' days.'"]) }}
            when 'catch_up_plan' then {{ dbt.concat([
                "'Agree a catch-up plan: '", dbt.safe_cast('deadlines_missed_recently', dbt.type_string()),
                "' deadlines missed in the last " ~ recent_days ~ " days.'"]) }}
            when 'academic_support' then {{ dbt.concat([
                "'Offer help with the material: grade so far '",
                dbt.safe_cast(percent_of.format('final_grade_share'), dbt.type_string()),
                "'% against a pass mark of '",
                dbt.safe_cast(percent_of.format('pass_share'), dbt.type_string()), "'%.'"]) }}
            else 'Check in with a short personal message.'
        end as suggested_action,
        -- The order staff work through the queue: risk band, then an urgent
        -- deadline, then the probability, then the longest silence.
        case risk_band when 'high' then 1 when 'medium' then 2 else 3 end as band_order,
        case when is_deadline_urgent then 0 else 1 end as urgency_order

    from suggested

),

ranked as (

    select
        *,
        row_number() over (
            partition by course_id
            order by
                band_order asc,
                urgency_order asc,
                dropout_probability desc,
                days_inactive desc,
                learner_course_id asc
        ) as rank_in_course

    from worded

),

-- The teachers who see each learner: every owner of the course, but in a
-- course in separate groups mode only the learners of their own groups for
-- those without access to all groups.
learner_owners as (

    select
        ranked.learner_course_id,
        owners.staff_id

    from ranked
    inner join owners using (course_id)
    left join group_members_paired
        on
            owners.course_id = group_members_paired.course_id
            and owners.user_id = group_members_paired.user_id
            and ranked.user_id = group_members_paired.peer_user_id
    where
        owners.is_limited_to_own_groups = 0
        or group_members_paired.peer_user_id is not null

),

-- Row ownership: one row per teacher who sees the learner, so a BI tool that
-- filters on staff_id shows each teacher only their own learners. A learner
-- no teacher sees keeps their row, unowned (staff_id null).
owned as (

    select
        ranked.*,
        learner_owners.staff_id,
        row_number() over (
            partition by learner_owners.staff_id
            order by
                ranked.band_order asc,
                ranked.urgency_order asc,
                ranked.dropout_probability desc,
                ranked.days_inactive desc,
                ranked.learner_course_id asc
        ) as teacher_order

    from ranked
    left join learner_owners using (learner_course_id)

),

final as (

    select
        ---------- ids
        {{ composite_key(["coalesce(owned.staff_id, 'unowned')", 'owned.learner_course_id']) }} as intervention_id,
        owned.staff_id,
        owned.learner_course_id,
        owned.learner_id,
        owned.course_id,
        owned.learner_week_id,
        ---------- strings
        owned.course_name,
        owned.course_short_name,
        owned.risk_band,
        owned.segment,
        owned.reason_1,
        owned.reason_2,
        owned.reason_3,
        owned.action_code,
        owned.suggested_action,
        owned.next_due_activity_name,
        owned.next_due_activity_url_path,
        owned.score_method,
        owned.model_name,
        {{ contact_columns('user_contacts', ['full_name', 'email']) }},
        ---------- numerics
        cast(owned.rank_in_course as integer) as rank_in_course,
        cast(case when owned.staff_id is not null then owned.teacher_order end as integer) as rank_for_teacher,
        cast(owned.course_week_number as integer) as course_week_number,
        cast(owned.dropout_probability as {{ type_double() }}) as dropout_probability,
        cast(owned.days_inactive as integer) as days_inactive,
        cast(owned.deadlines_missed_recently as integer) as deadlines_missed_recently,
        cast(owned.days_to_next_deadline as integer) as days_to_next_deadline,
        cast(owned.final_grade_share as {{ type_double() }}) as grade_share,
        cast(owned.pass_share as {{ type_double() }}) as pass_share,
        ---------- booleans
        owned.is_deadline_urgent,
        owned.has_never_been_active,
        ---------- timestamps
        owned.last_activity_at,
        owned.next_due_at,
        {{ as_of() }} as queued_at

    from owned
    inner join user_contacts using (user_id)

)

select * from final
