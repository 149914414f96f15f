with

source as (

    select * from {{ source('moodle', 'role') }}

),

renamed as (

    select
        ---------- ids
        id as role_id,
        ---------- strings
        shortname as role_short_name,
        name as role_name,
        archetype as role_archetype,
        ---------- numerics
        sortorder as sort_order

    from source

)

select * from renamed
