with

source as (

    select * from {{ source('moodle', 'context') }}

),

renamed as (

    select
        ---------- ids
        id as context_id,
        instanceid as context_instance_id,
        ---------- strings
        path as context_path,
        {{ decode('contextlevel', context_level_names()) }} as context_level_name,
        ---------- numerics
        contextlevel as context_level,
        depth as context_depth

    from source

)

select * from renamed
