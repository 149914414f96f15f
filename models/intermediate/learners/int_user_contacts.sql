with

users as (

    select * from {{ ref('stg_moodle__users') }}

),

final as (

    select
        ---------- ids
        user_id,
        {{ pseudonymous_id('user_id') }} as learner_id,
        ---------- strings
        first_name,
        {{ dbt.concat(['first_name', "' '", 'last_name']) }} as full_name,
        email,
        preferred_language,
        -- Moodle's '99' (or nothing) is the site's default time zone.
        case
            when preferred_timezone is null or preferred_timezone in ('', '99') then '{{ var("site_timezone") }}'
            else preferred_timezone
        end as timezone,
        ---------- booleans
        is_suspended,
        is_deleted,
        is_email_stopped,
        ---------- timestamps
        last_access_at

    from users

)

select * from final
