{%- set definition = var('dropout_definition') %}
{%- set known_conditions = ['inactive_last_quarter', 'not_completed', 'below_pass_grade'] %}
{%- for condition in definition %}
{%- if condition not in known_conditions %}
        {{ exceptions.raise_compiler_error(
            "dropout_definition: unknown condition '" ~ condition ~ "'; use any of " ~ known_conditions | join(', ')
        ) }}
    {%- endif %}
{%- endfor %}

with

course_learners as (

    select * from {{ ref('int_course_learners') }}

),

learner_weeks as (

    select * from {{ ref('fct_learner_weeks') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

grades as (

    select * from {{ ref('int_grades_normalised') }}

),

course_completions as (

    select * from {{ ref('stg_moodle__course_completions') }}

),

learner_deadlines as (

    select * from {{ ref('int_learner_deadlines') }}

),

activities_engaged as (

    select * from {{ ref('int_learner_activities_engaged') }}

),

activities as (

    select * from {{ ref('int_course_activities') }}

),

event_catalogue as (

    select * from {{ ref('moodle_event_catalogue') }}

),

weeks_summary as (

    select
        learner_course_id,
        count(*) as weeks_followed,
        sum(case when is_active then 1 else 0 end) as weeks_active,
        max(case when is_active then course_week_number end) as last_active_week_number,
        sum(events) as events,
        sum(sessions) as sessions,
        sum(minutes_on_task) as minutes_on_task,
        sum(submissions_on_time) as submissions_on_time,
        sum(submissions_late) as submissions_late,
        sum(quiz_attempts) as quiz_attempts,
        sum(forum_discussions_started) as forum_discussions_started,
        sum(forum_replies) as forum_replies,
        max(cumulative_completion_share) as completion_share,
        max(cumulative_quiz_average_score) as last_quiz_average,
        min(case when is_active then week_starts_at end) as first_active_week_starts_at,
        max(last_activity_at) as last_activity_at

    from learner_weeks
    group by learner_course_id

),

first_activity as (

    select
        learner_course_id,
        min(first_engaged_at) as first_activity_at

    from activities_engaged
    group by learner_course_id

),

course_grades as (

    select
        {{ composite_key(['user_id', 'course_id']) }} as learner_course_id,
        grade_share,
        pass_share,
        is_passing

    from grades
    where item_type = 'course'

),

quiz_grades as (

    select
        {{ composite_key(['user_id', 'course_id']) }} as learner_course_id,
        avg(grade_share) as quiz_average_grade_share

    from grades
    where item_module = 'quiz'
    group by user_id, course_id

),

deadline_summary as (

    select
        learner_course_id,
        sum(case when due_at <= {{ as_of() }} then 1 else 0 end) as deadlines_passed,
        -- An early hand-in for a deadline still to come counts once it is due.
        sum(
            case when deadline_status = 'on_time' and due_at <= {{ as_of() }} then 1 else 0 end
        ) as deadlines_met_on_time,
        sum(case when deadline_status = 'late' then 1 else 0 end) as deadlines_met_late,
        sum(case when deadline_status = 'missing' then 1 else 0 end) as deadlines_missed

    from learner_deadlines
    group by learner_course_id

),

-- Community of inquiry: how deep (cognitive) and how social each learner went
-- in each activity, against the deepest level the activity type allows.
potential_levels as (

    select
        activity_type,
        max(cognitive_depth) as max_cognitive_depth,
        max(social_breadth) as max_social_breadth

    from event_catalogue
    where cognitive_depth is not null
    group by activity_type

),

inquiry_scores as (

    select
        course_learners.learner_course_id,
        sum(coalesce(activities_engaged.cognitive_depth, 0)) * 1.0
        / nullif(sum(potential_levels.max_cognitive_depth), 0) as cognitive_depth_score,
        sum(coalesce(activities_engaged.social_breadth, 0)) * 1.0
        / nullif(sum(potential_levels.max_social_breadth), 0) as social_breadth_score

    from course_learners
    inner join activities
        on course_learners.course_id = activities.course_id
    inner join potential_levels
        on activities.module_name = potential_levels.activity_type
    left join activities_engaged
        on
            course_learners.learner_course_id = activities_engaged.learner_course_id
            and activities.course_module_id = activities_engaged.course_module_id
    where activities.is_visible
    group by course_learners.learner_course_id

),

joined as (

    select
        course_learners.*,
        courses.has_completion_tracking,
        -- Course length in whole weeks from week 1 to the (effective) end.
        {{ weeks_spanned('course_learners.week_one_starts_at', 'course_learners.course_ends_at') }} as course_weeks,
        course_learners.course_ends_at <= {{ as_of() }} as is_outcome_known,
        weeks_summary.weeks_followed,
        weeks_summary.weeks_active,
        weeks_summary.last_active_week_number,
        weeks_summary.events,
        weeks_summary.sessions,
        weeks_summary.minutes_on_task,
        weeks_summary.submissions_on_time,
        weeks_summary.submissions_late,
        weeks_summary.quiz_attempts,
        weeks_summary.forum_discussions_started,
        weeks_summary.forum_replies,
        weeks_summary.completion_share,
        weeks_summary.last_activity_at,
        first_activity.first_activity_at,
        course_grades.grade_share as final_grade_share,
        coalesce(course_grades.pass_share, {{ var('default_pass_share') }}) as pass_share,
        course_grades.is_passing,
        quiz_grades.quiz_average_grade_share,
        course_completions.completed_at,
        deadline_summary.deadlines_passed,
        deadline_summary.deadlines_met_on_time,
        deadline_summary.deadlines_met_late,
        deadline_summary.deadlines_missed,
        inquiry_scores.cognitive_depth_score,
        inquiry_scores.social_breadth_score

    from course_learners
    inner join courses
        on course_learners.course_id = courses.course_id
    left join weeks_summary
        on course_learners.learner_course_id = weeks_summary.learner_course_id
    left join first_activity
        on course_learners.learner_course_id = first_activity.learner_course_id
    left join course_grades
        on course_learners.learner_course_id = course_grades.learner_course_id
    left join quiz_grades
        on course_learners.learner_course_id = quiz_grades.learner_course_id
    left join course_completions
        on
            course_learners.user_id = course_completions.user_id
            and course_learners.course_id = course_completions.course_id
            and course_completions.completed_at <= {{ as_of() }}
    left join deadline_summary
        on course_learners.learner_course_id = deadline_summary.learner_course_id
    left join inquiry_scores
        on course_learners.learner_course_id = inquiry_scores.learner_course_id

),

labelled as (

    select
        *,
        -- The last quarter of a 14-week course is weeks 11 to 14.
        coalesce(last_active_week_number, 0) <= floor(0.75 * course_weeks) as is_inactive_last_quarter,
        has_completion_tracking and completed_at is null as is_not_completed,
        coalesce(final_grade_share < pass_share, true) as is_below_pass_grade

    from joined

),

final as (

    select
        ---------- ids
        learner_course_id,
        learner_id,
        course_id,
        ---------- strings
        enrolment_method,
        '{{ definition | join(",") }}' as dropout_definition,
        ---------- numerics
        cast(course_weeks as integer) as course_weeks,
        cast(coalesce(weeks_followed, 0) as integer) as weeks_followed,
        cast(coalesce(weeks_active, 0) as integer) as weeks_active,
        cast(last_active_week_number as integer) as last_active_week_number,
        cast(coalesce(events, 0) as integer) as events,
        cast(coalesce(sessions, 0) as integer) as sessions,
        cast(coalesce(minutes_on_task, 0) as {{ type_double() }}) as minutes_on_task,
        cast(
            floor({{ seconds_between('enrolled_at', 'first_activity_at') }} / 86400.0) as integer
        ) as days_to_first_activity,
        cast(final_grade_share as {{ type_double() }}) as final_grade_share,
        cast(pass_share as {{ type_double() }}) as pass_share,
        cast(coalesce(deadlines_passed, 0) as integer) as deadlines_passed,
        cast(coalesce(deadlines_met_on_time, 0) as integer) as deadlines_met_on_time,
        cast(coalesce(deadlines_met_late, 0) as integer) as deadlines_met_late,
        cast(coalesce(deadlines_missed, 0) as integer) as deadlines_missed,
        cast(
            case when deadlines_passed > 0 then 1.0 * deadlines_met_on_time / deadlines_passed end
            as {{ type_double() }}
        ) as on_time_rate,
        cast(coalesce(submissions_on_time, 0) as integer) as submissions_on_time,
        cast(coalesce(submissions_late, 0) as integer) as submissions_late,
        cast(coalesce(quiz_attempts, 0) as integer) as quiz_attempts,
        cast(quiz_average_grade_share as {{ type_double() }}) as quiz_average_grade_share,
        cast(coalesce(forum_discussions_started, 0) as integer) as forum_discussions_started,
        cast(coalesce(forum_replies, 0) as integer) as forum_replies,
        cast(completion_share as {{ type_double() }}) as completion_share,
        cast(coalesce(cognitive_depth_score, 0) as {{ type_double() }}) as cognitive_depth_score,
        cast(coalesce(social_breadth_score, 0) as {{ type_double() }}) as social_breadth_score,
        ---------- booleans
        coalesce(is_passing, false) as has_passed,
        completed_at is not null as is_completed,
        is_enrolment_suspended,
        is_outcome_known,
        is_inactive_last_quarter,
        is_not_completed,
        is_below_pass_grade,
        case
            when is_outcome_known then
            {%- for condition in definition %}
                {{ 'is_' ~ condition }}{% if not loop.last %} or{% endif %}
                {%- endfor %}
        end as is_dropout,
        ---------- timestamps
        enrolled_at,
        enrolment_ends_at,
        week_one_starts_at,
        course_ends_at,
        first_activity_at,
        last_activity_at,
        completed_at

    from labelled

)

select * from final
