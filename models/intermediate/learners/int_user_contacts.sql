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
        ---------- booleans
        is_suspended,
        is_deleted,
        ---------- timestamps
        last_access_at

    from users

)

select * from final
