with

course_modules as (

    select * from {{ ref('stg_moodle__course_modules') }}

),

modules as (

    select * from {{ ref('stg_moodle__modules') }}

),

course_sections as (

    select * from {{ ref('stg_moodle__course_sections') }}

),

courses as (

    select * from {{ ref('stg_moodle__courses') }}

),

grade_items as (

    select * from {{ ref('stg_moodle__grade_items') }}

),

instances as (

    select * from {{ ref('int_activity_instances') }}

),

activity_grade_items as (

    select
        item_module as module_name,
        item_instance_id as instance_id,
        grade_item_id,
        grade_min,
        grade_max,
        grade_pass

    from grade_items
    where item_type = 'mod' and item_number = 0

),

final as (

    select
        ---------- ids
        course_modules.course_module_id,
        course_modules.course_id,
        course_modules.instance_id,
        activity_grade_items.grade_item_id,
        ---------- strings
        modules.module_name,
        courses.course_name,
        courses.course_short_name,
        -- Types whose table the project does not read still get a name.
        coalesce(
            instances.activity_name,
            {%- set instance_text = dbt.safe_cast('course_modules.instance_id', dbt.type_string()) %}
            {{ dbt.concat(['modules.module_name', "' '", instance_text]) }}
        ) as activity_name,
        ---------- numerics
        course_sections.section_number,
        course_modules.completion_tracking,
        activity_grade_items.grade_max,
        activity_grade_items.grade_pass,
        ---------- booleans
        course_modules.is_visible,
        courses.is_visible as is_course_visible,
        course_modules.completion_tracking > 0 and courses.has_completion_tracking
            as has_completion_tracking,
        ---------- timestamps
        course_modules.added_at,
        instances.opens_at,
        instances.due_at,
        instances.cut_off_at,
        course_modules.completion_expected_at

    from course_modules
    inner join modules using (module_id)
    inner join courses using (course_id)
    left join course_sections using (course_section_id)
    left join instances
        on
            modules.module_name = instances.module_name
            and course_modules.instance_id = instances.instance_id
    left join activity_grade_items
        on
            modules.module_name = activity_grade_items.module_name
            and course_modules.instance_id = activity_grade_items.instance_id
    where not course_modules.is_being_deleted

)

select * from final
