with

source as (

    select * from {{ source('moodle', 'modules') }}

),

renamed as (

    select
        ---------- ids
        id as module_id,
        ---------- strings
        name as module_name,
        ---------- booleans
        visible = 1 as is_enabled

    from source

)

select * from renamed
