{% snapshot snp_moodle__user_flags %}

-- The account flags of mdl_user as Moodle stores them, and nothing personal:
-- names and e-mail addresses must not be copied into a history kept for good.
with

users as (

    select * from {{ source('moodle', 'user') }}

),

final as (

    select
        id,
        suspended,
        deleted,
        timecreated,
        timemodified

    from users

)

select * from final

{% endsnapshot %}
