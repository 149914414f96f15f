{{ config(materialized='table') }}

with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

deadlines as (

    select * from {{ ref('int_activity_deadlines') }}

),

activities_engaged as (

    select * from {{ ref('int_learner_activities_engaged') }}

),

activities_recorded as (

    select * from {{ ref('int_learner_activities_recorded') }}

),

-- One due date per activity: its own setting wins over the calendar.
activity_due_dates as (

    select
        course_id,
        course_module_id,
        module_name,
        due_at,
        row_number() over (
            partition by course_module_id
            order by case deadline_source when 'activity_settings' then 1 else 2 end, due_at
        ) as preference

    from deadlines
    where deadline_type = 'due' and course_module_id is not null

),

learner_due_dates as (

    select
        course_learners.learner_course_id,
        course_learners.learner_id,
        course_learners.user_id,
        course_learners.course_id,
        activity_due_dates.course_module_id,
        activity_due_dates.module_name,
        activity_due_dates.due_at

    from course_learners
    inner join activity_due_dates using (course_id)
    -- Deadlines that passed before the learner enrolled do not apply.
    where
        activity_due_dates.preference = 1
        and activity_due_dates.due_at >= course_learners.enrolled_at
        and activity_due_dates.due_at <= course_learners.course_ends_at

),

final as (

    select
        ---------- ids
        {{ composite_key(['learner_due_dates.learner_course_id', 'learner_due_dates.course_module_id']) }}
            as learner_deadline_id,
        learner_due_dates.learner_course_id,
        learner_due_dates.learner_id,
        learner_due_dates.user_id,
        learner_due_dates.course_id,
        learner_due_dates.course_module_id,
        ---------- strings
        learner_due_dates.module_name,
        case
            when activities_engaged.first_handed_in_at is not null
                then
                    case
                        when activities_engaged.first_handed_in_at <= learner_due_dates.due_at
                            then 'on_time'
                        else 'late'
                    end
            when activities_recorded.is_activity_complete then 'completed'
            when learner_due_dates.due_at <= {{ as_of() }} then 'missing'
            else 'pending'
        end as deadline_status,
        ---------- booleans
        coalesce(activities_recorded.is_activity_complete, false) as is_activity_complete,
        ---------- timestamps
        learner_due_dates.due_at,
        activities_engaged.first_handed_in_at,
        activities_engaged.first_engaged_at,
        activities_engaged.last_engaged_at

    from learner_due_dates
    left join activities_engaged using (learner_course_id, course_module_id)
    left join activities_recorded
        on
            learner_due_dates.user_id = activities_recorded.user_id
            and learner_due_dates.course_module_id = activities_recorded.course_module_id

)

select * from final
