{% snapshot snp_moodle__user_enrolments %}

-- Moodle's enrolment rows as Moodle stores them (epoch seconds, status codes),
-- read from the source: a snapshot cannot be rebuilt, so it keeps the raw values
-- and the history models convert them. The enrolment method gives the course
-- (fixed for the life of the row) and its own status (a disabled method removes
-- access as a suspension does).
with

user_enrolments as (

    select * from {{ source('moodle', 'user_enrolments') }}

),

enrolment_methods as (

    select * from {{ source('moodle', 'enrol') }}

),

final as (

    select
        user_enrolments.id,
        user_enrolments.enrolid,
        enrolment_methods.courseid,
        user_enrolments.userid,
        user_enrolments.status,
        enrolment_methods.status as enrolstatus,
        user_enrolments.timestart,
        user_enrolments.timeend,
        user_enrolments.timecreated,
        user_enrolments.timemodified

    from user_enrolments
    inner join enrolment_methods
        on user_enrolments.enrolid = enrolment_methods.id

)

select * from final

{% endsnapshot %}
