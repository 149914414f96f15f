{#- One teacher's learners at risk, with the reasons: one row per teacher and
    learner-course of a running course, in the order to contact them.
    Vars: staff_id (default null: every teacher; a teacher's id is in
    rpt_teacher_comparison), risk_bands (default [high, medium]). -#}
{%- set staff_id = var('staff_id', none) -%}
{%- set filters = ['risk_band in ' ~ sql_list(var('risk_bands', ['high', 'medium']))] -%}
{%- if staff_id -%}
    {%- do filters.append('staff_id in ' ~ sql_list([staff_id])) -%}
{%- endif -%}

with

intervention_queue as (

    select * from {{ ref('fct_intervention_queue') }}

),

final as (

    select
        ---------- ids
        staff_id,
        learner_id,
        course_id,
        ---------- strings
        course_short_name,
        full_name,
        email,
        risk_band,
        segment,
        reason_1,
        reason_2,
        reason_3,
        suggested_action,
        next_due_activity_name,
        next_due_activity_url_path,
        ---------- numerics
        rank_for_teacher,
        rank_in_course,
        dropout_probability,
        days_inactive,
        deadlines_missed_recently,
        days_to_next_deadline,
        grade_share,
        ---------- booleans
        is_deadline_urgent,
        ---------- timestamps
        last_activity_at,
        next_due_at

    from intervention_queue
    where {{ filters | join(' and ') }}

)

select * from final
order by staff_id, rank_for_teacher
