{#- The moment the reminders are as of: reminders_as_of when set, else as_of. -#}
{%- set reminded_at = as_of() -%}
{%- if var('reminders_as_of') -%}
    {%- set reminded_at = timestamp_var('reminders_as_of') -%}
{%- endif -%}
{%- set window_days = var('reminder_window_days') -%}
{%- if window_days is not number or window_days <= 0 -%}
    {{ exceptions.raise_compiler_error(
        "reminder_window_days must be a positive number of days, got '" ~ window_days ~ "'"
    ) }}
{%- endif -%}

with

learner_deadlines as (

    select * from {{ ref('int_learner_deadlines') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

activities_recorded as (

    select * from {{ ref('int_learner_activities_recorded') }}

),

user_contacts as (

    select * from {{ ref('int_user_contacts') }}

),

enrolments as (

    select * from {{ ref('int_enrolments') }}

),

reminder_moment as (

    select {{ reminded_at }} as reminded_at

),

due_soon as (

    select
        learner_deadlines.*,
        reminder_moment.reminded_at

    from learner_deadlines
    cross join reminder_moment
    where
        learner_deadlines.due_at > reminder_moment.reminded_at
        and learner_deadlines.due_at
        <= {{ add_seconds('reminder_moment.reminded_at', (window_days * 86400) | int) }}

),

active_enrolments as (

    select distinct
        enrolments.user_id,
        enrolments.course_id

    from enrolments
    cross join reminder_moment
    where {{ enrolment_is_active('enrolments', 'reminder_moment.reminded_at') }}

),

-- Not handed in by the moment, by the log or by the activity tables (a log
-- can be purged or incomplete, the tables keep the state).
open_reminders as (

    select
        due_soon.*,
        activities.module_name as activity_type,
        activities.activity_name,
        {{ activity_url_path('activities.module_name', 'activities.course_module_id') }} as activity_url_path,
        activities.opens_at,
        activities.course_name,
        activities.course_short_name,
        user_contacts.first_name,
        user_contacts.full_name,
        user_contacts.email,
        user_contacts.preferred_language,
        user_contacts.timezone,
        user_contacts.is_email_stopped

    from due_soon
    inner join active_enrolments using (user_id, course_id)
    left join activities_recorded using (user_id, course_module_id)
    inner join activities using (course_module_id)
    inner join user_contacts using (user_id)
    where
        (due_soon.first_handed_in_at is null or due_soon.first_handed_in_at > due_soon.reminded_at)
        and not coalesce(activities_recorded.has_undated_hand_in, false)
        and not coalesce(activities_recorded.first_recorded_hand_in_at <= due_soon.reminded_at, false)
        and not user_contacts.is_suspended
        and not user_contacts.is_deleted
        and activities.is_visible
        and activities.is_course_visible

),

-- Learners who turned off e-mail from the site get no reminder; the list
-- says how many it leaves out.
email_stopped as (

    select count(distinct user_id) as learners_left_out

    from open_reminders
    where is_email_stopped

),

listed as (

    select
        open_reminders.*,
        email_stopped.learners_left_out

    from open_reminders
    cross join email_stopped
    where not open_reminders.is_email_stopped

),

final as (

    select
        ---------- ids
        {{ composite_key(['learner_course_id', 'course_module_id']) }} as deadline_reminder_id,
        learner_course_id,
        learner_id,
        course_id,
        course_module_id as activity_id,
        ---------- strings
        activity_type,
        activity_name,
        activity_url_path,
        course_name,
        course_short_name,
        {{ contact_columns() }},
        preferred_language,
        timezone,
        ---------- numerics
        cast({{ calendar_days_between('reminded_at', 'due_at') }} as integer) as days_left,
        cast(floor({{ seconds_between('reminded_at', 'due_at') }} / 3600.0) as integer) as hours_left,
        cast(learners_left_out as integer) as email_stopped_left_out,
        ---------- booleans
        coalesce(first_engaged_at <= reminded_at, false) as has_opened_activity,
        ---------- timestamps
        due_at,
        opens_at,
        reminded_at

    from listed

)

select * from final
