with

source as (

    select * from {{ source('moodle', 'user') }}

),

renamed as (

    select
        ---------- ids
        id as user_id,
        mnethostid as mnet_host_id,
        ---------- strings
        auth as auth_method,
        username,
        idnumber as id_number,
        firstname as first_name,
        lastname as last_name,
        email,
        city,
        country as country_code,
        lang as preferred_language,
        timezone as preferred_timezone,
        ---------- booleans
        deleted = 1 as is_deleted,
        suspended = 1 as is_suspended,
        confirmed = 1 as is_confirmed,
        username = 'guest' as is_guest,
        emailstop = 1 as is_email_stopped,
        ---------- timestamps
        {{ epoch_to_timestamp('timecreated', zero_is_null=true) }} as created_at,
        {{ epoch_to_timestamp('firstaccess', zero_is_null=true) }} as first_access_at,
        {{ epoch_to_timestamp('lastaccess', zero_is_null=true) }} as last_access_at,
        {{ epoch_to_timestamp('timemodified', zero_is_null=true) }} as modified_at

    from source

)

select * from renamed
