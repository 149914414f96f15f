{%- set match_field = var('programme_course_match_field') -%}
{%- set course_fields = {'idnumber': 'course_id_number', 'shortname': 'course_short_name'} -%}
{%- if match_field not in course_fields -%}
    {{ exceptions.raise_compiler_error(
        "programme_course_match_field must be idnumber or shortname, got '" ~ match_field ~ "'"
    ) }}
{%- endif -%}
{%- set course_field = 'lower(courses.' ~ course_fields[match_field] ~ ')' -%}
{%- set course_code = 'lower(programme_courses.course_code)' -%}
{%- set code_and_separator = dbt.concat([course_code, sql_text(var('programme_offering_separator'))]) -%}

with

programmes as (

    select * from {{ ref('programmes') }}

),

programme_courses as (

    select * from {{ ref('programme_courses') }}

),

courses as (

    select * from {{ ref('int_courses_categorised') }}

),

enrolment_methods as (

    select * from {{ ref('int_enrolment_methods') }}

),

programme_sizes as (

    select
        programme_code,
        count(*) as programme_courses

    from programme_courses
    group by programme_code

),

-- Paid enrolment methods a learner can use now: the upgrade path.
open_paid_methods as (

    select
        enrolment_methods.course_id,
        enrolment_methods.enrolment_method_name,
        enrolment_methods.cost,
        enrolment_methods.currency,
        row_number() over (
            partition by enrolment_methods.course_id
            order by enrolment_methods.sort_order, enrolment_methods.enrolment_method_id
        ) as method_order

    from enrolment_methods
    where
        enrolment_methods.is_paid_track
        and enrolment_methods.is_enabled
        and (enrolment_methods.enrolment_opens_at is null or enrolment_methods.enrolment_opens_at <= {{ as_of() }})
        and (enrolment_methods.enrolment_closes_at is null or enrolment_methods.enrolment_closes_at > {{ as_of() }})

),

-- DS101 matches DS101 and DS101-2026FA, never DS1010 (see programme_courses).
matched as (

    select
        programme_courses.programme_code,
        programme_courses.course_position,
        programme_courses.course_code,
        programme_courses.course_title,
        programme_courses.pass_grade_share as programme_pass_share,
        courses.course_id,
        courses.course_name,
        courses.course_short_name,
        courses.course_id_number,
        courses.course_status,
        courses.pass_share as course_pass_share,
        courses.starts_at,
        courses.ends_at

    from programme_courses
    inner join courses
        on
            {{ course_field }} = {{ course_code }}
            or substring({{ course_field }}, 1, {{ dbt.length(code_and_separator) }}) = {{ code_and_separator }}

),

final as (

    select
        ---------- ids
        {{ composite_key(['matched.programme_code', 'matched.course_id']) }} as programme_offering_id,
        matched.programme_code,
        matched.course_id,
        ---------- strings
        programmes.programme_name,
        programmes.certificate_name,
        matched.course_code,
        matched.course_title,
        matched.course_name,
        matched.course_short_name,
        matched.course_id_number,
        matched.course_status,
        open_paid_methods.enrolment_method_name as paid_track_method_name,
        open_paid_methods.cost as paid_track_cost,
        open_paid_methods.currency as paid_track_currency,
        ---------- numerics
        cast(matched.course_position as integer) as course_position,
        cast(programme_sizes.programme_courses as integer) as programme_courses,
        cast(
            coalesce(
                matched.programme_pass_share,
                matched.course_pass_share,
                {{ var('default_pass_share') }}
            ) as {{ type_double() }}
        ) as pass_grade_share,
        ---------- booleans
        matched.programme_pass_share is not null as is_pass_grade_set_by_programme,
        open_paid_methods.course_id is not null as has_open_paid_track,
        ---------- timestamps
        matched.starts_at,
        matched.ends_at

    from matched
    inner join programmes using (programme_code)
    inner join programme_sizes using (programme_code)
    left join open_paid_methods
        on
            matched.course_id = open_paid_methods.course_id
            and open_paid_methods.method_order = 1

)

select * from final
