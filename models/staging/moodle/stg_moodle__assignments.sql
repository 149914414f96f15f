with

source as (

    select * from {{ source('moodle', 'assign') }}

),

renamed as (

    select
        ---------- ids
        id as assignment_id,
        course as course_id,
        ---------- strings
        name as assignment_name,
        attemptreopenmethod as attempt_reopen_method,
        ---------- numerics
        grade as max_grade,
        maxattempts as attempts_allowed,
        ---------- booleans
        submissiondrafts = 1 as uses_drafts,
        nosubmissions = 1 as has_no_submissions,
        ---------- timestamps
        {{ epoch_to_timestamp('allowsubmissionsfromdate', zero_is_null=true) }} as opens_at,
        {{ epoch_to_timestamp('duedate', zero_is_null=true) }} as due_at,
        {{ epoch_to_timestamp('cutoffdate', zero_is_null=true) }} as cut_off_at,
        {{ epoch_to_timestamp('gradingduedate', zero_is_null=true) }} as grading_due_at

    from source

)

select * from renamed
