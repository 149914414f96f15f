{#- Outreach candidates: one row per learner and suggestion, from both outreach
    lists: learners passing on the free track (suggest the verified one) and learners
    who passed some of a programme's courses (suggest the next).
    Vars: outreach_list (default 'all'; or 'upgrade_track', 'next_course'),
    programme_code (default null: every programme). -#}
{%- set outreach_list = var('outreach_list', 'all') -%}
{%- set programme_code = var('programme_code', none) -%}
{%- if outreach_list not in ['all', 'upgrade_track', 'next_course'] -%}
    {{ exceptions.raise_compiler_error("var outreach_list must be all, upgrade_track or next_course, not " ~ outreach_list) }}
{%- endif -%}
{%- set filters = ['1 = 1'] -%}
{%- if outreach_list != 'all' -%}
    {%- do filters.append("outreach_list = '" ~ outreach_list ~ "'") -%}
{%- endif -%}
{%- if programme_code -%}
    {#- programme_codes lists a course's programmes as 'BUS, DS'. -#}
    {%- do filters.append(
        dbt.concat(["', '", 'programme_codes', "', '"])
        ~ " like '%, " ~ programme_code | replace("'", "''") ~ ", %'"
    ) -%}
{%- endif -%}

with

upgrade_track as (

    select * from {{ ref('rpt_outreach_upgrade_track') }}

),

next_course as (

    select * from {{ ref('rpt_outreach_next_course') }}

),

candidates as (

    select
        'upgrade_track' as outreach_list,
        learner_id,
        programme_codes,
        course_id as offering_course_id,
        course_code,
        course_title,
        {{ dbt.concat([
            "'passing on the ' ", 'enrolment_track', "' track: suggest '", 'paid_track_method_name',
        ]) }} as suggestion,
        first_name,
        full_name,
        email,
        preferred_language,
        last_activity_at

    from upgrade_track

    union all

    select
        'next_course' as outreach_list,
        learner_id,
        programme_code as programme_codes,
        next_offering_course_id as offering_course_id,
        next_course_code as course_code,
        next_course_title as course_title,
        {{ dbt.concat([
            "'passed '", dbt.safe_cast('courses_passed', dbt.type_string()), "' of '",
            dbt.safe_cast('programme_courses', dbt.type_string()),
            "' courses: suggest the next'",
        ]) }} as suggestion,
        first_name,
        full_name,
        email,
        preferred_language,
        last_activity_at

    from next_course

),

final as (

    select *

    from candidates
    where {{ filters | join(' and ') }}

)

select * from final
order by outreach_list, programme_codes, learner_id
