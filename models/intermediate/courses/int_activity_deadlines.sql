with

activities as (

    select * from {{ ref('int_course_activities') }}

),

calendar_events as (

    select * from {{ ref('stg_moodle__calendar_events') }}

),

activity_deadlines as (

    select
        course_id,
        course_module_id,
        module_name,
        'due' as deadline_type,
        'activity_settings' as deadline_source,
        1 as source_priority,
        due_at
    from activities
    where due_at is not null
    union all
    select
        course_id,
        course_module_id,
        module_name,
        'completion_expected' as deadline_type,
        'completion_settings' as deadline_source,
        2 as source_priority,
        completion_expected_at as due_at
    from activities
    where completion_expected_at is not null

),

-- Calendar events can carry deadlines the activity tables do not (a course
-- exam, an activity type the project does not read).
calendar_deadlines as (

    select
        calendar_events.course_id,
        activities.course_module_id,
        coalesce(activities.module_name, calendar_events.module_name) as module_name,
        case
            when calendar_events.event_type = 'expectcompletionon' then 'completion_expected'
            when calendar_events.event_type in ('due', 'close') then 'due'
            else calendar_events.event_type
        end as deadline_type,
        'calendar' as deadline_source,
        3 as source_priority,
        calendar_events.starts_at as due_at

    from calendar_events
    left join activities using (module_name, instance_id)
    where
        calendar_events.course_id > 1
        and calendar_events.event_type in ('due', 'close', 'expectcompletionon', 'course')
        and calendar_events.starts_at is not null
        and calendar_events.is_visible

),

all_deadlines as (

    select * from activity_deadlines
    union all
    select * from calendar_deadlines

),

ranked as (

    select
        *,
        row_number() over (
            partition by course_id, course_module_id, deadline_type, due_at
            order by source_priority
        ) as duplicate_number

    from all_deadlines

),

final as (

    select
        ---------- ids
        {%- set due_epoch = timestamp_to_epoch('due_at') %}
        {{ composite_key(['course_id', 'coalesce(course_module_id, 0)', 'deadline_type', due_epoch]) }}
            as deadline_id,
        course_id,
        course_module_id,
        ---------- strings
        module_name,
        deadline_type,
        deadline_source,
        ---------- timestamps
        due_at

    from ranked
    where duplicate_number = 1

)

select * from final
