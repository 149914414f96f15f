{#- A stable pseudonymous key for a Moodle user: the SHA-256 of the site's
    secret pseudonym key and the user id, so marts can be shared without
    Moodle ids and nobody without the key can map an id to its pseudonym
    (docs/privacy.md). Hash once per user or learner-course, never per event. -#}
{% macro pseudonymous_id(user_id_column) -%}
    {{ sha256_hex(dbt.concat([
        "'" ~ pseudonym_key() ~ ":'",
        dbt.safe_cast(user_id_column, dbt.type_string()),
    ])) }}
{%- endmacro %}

{#- A Moodle user id as a mart shows it: the id itself only in a build with
    include_pii, else null (the row keeps the learner_id). -#}
{% macro moodle_user_id_if_pii(user_id_column) -%}
    {%- if var('include_pii') -%}
        {{ user_id_column }}
    {%- else -%}
        cast(null as {{ dbt.type_bigint() }})
    {%- endif -%}
{%- endmacro %}

{#- The key of the pseudonyms as SQL-safe text: the hexadecimal UTF-8 bytes of
    the secret, so no character of the secret reaches SQL as itself and the
    ':' after it cannot occur inside it. The secret comes from the environment
    variable MOODLE_PSEUDONYM_SECRET, or on the demo site from the site itself;
    anywhere else the build stops and says how to set one. -#}
{% macro pseudonym_key() -%}
    {#- Read only when running: parsing needs no key, and a new secret then
        needs no new parse of the project. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set secret = env_var('MOODLE_PSEUDONYM_SECRET', '') -%}
    {%- if secret -%}
        {%- if secret | length < 32 -%}
            {{ exceptions.raise_compiler_error(
                'MOODLE_PSEUDONYM_SECRET is ' ~ secret | length ~ ' characters long; a pseudonym secret '
                ~ 'needs at least 32 (moodle-pseudonym-secret makes and keeps one: see docs/privacy.md).'
            ) }}
        {%- endif -%}
        {{ return(secret.encode('utf-8').hex()) }}
    {%- endif -%}
    {#- A dbt unit test renders without the project's sources (and reads no
        site): its rows hash under a key of its own. -#}
    {%- if graph.get('sources') is none -%}
        {{ return('unit test'.encode('utf-8').hex()) }}
    {%- endif -%}
    {%- set demo_secret = demo_pseudonym_secret() -%}
    {%- if demo_secret -%}
        {{ return(demo_secret.encode('utf-8').hex()) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        'No pseudonym secret: set the environment variable MOODLE_PSEUDONYM_SECRET before building '
        ~ 'a Moodle site. `export MOODLE_PSEUDONYM_SECRET="$(.venv/bin/moodle-pseudonym-secret)"` '
        ~ 'makes one on first use and keeps it in ~/.config/moodle-analytics/pseudonym_secret '
        ~ '(mode 0600); keep that file, or the same value, for every later build: another secret '
        ~ 'changes every learner key. Only the generated demo site brings its own (docs/privacy.md).'
    ) }}
{%- endmacro %}

{#- The demo site's own pseudonym secret, or '' on any other site: moodle-demo-data
    writes 'moodle-analytics-demo:<64 hex digits>' as the idnumber of the front
    page (course 1), a course no model reads as a course. -#}
{% macro demo_pseudonym_secret() -%}
    {%- set course_source = graph.sources['source.moodle_analytics.moodle.course'] -%}
    {%- set course_table = api.Relation.create(
        database=course_source.database, schema=course_source.schema, identifier=course_source.identifier
    ) -%}
    {%- set marker = run_query(
        'select idnumber from ' ~ course_table ~ " where id = 1 and format = 'site'"
    ) -%}
    {%- set value = (marker.columns[0].values() | first) if marker and marker.rows | length > 0 else none -%}
    {%- set match = modules.re.fullmatch('moodle-analytics-demo:([0-9a-f]{64})', value or '') -%}
    {{ return(match.group(1) if match else '') }}
{%- endmacro %}

{#- Lowercase hexadecimal SHA-256 of a text expression. DuckDB has sha256();
    PostgreSQL 11+ has sha256() on bytes (no pgcrypto needed); Spark has sha2(). -#}
{% macro sha256_hex(text_expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'moodle_analytics')(text_expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(text_expression) -%}
    sha256({{ text_expression }})
{%- endmacro %}

{% macro postgres__sha256_hex(text_expression) -%}
    encode(sha256(convert_to({{ text_expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro spark__sha256_hex(text_expression) -%}
    sha2({{ text_expression }}, 256)
{%- endmacro %}

{#- Stops an incremental run of a model whose stored learner keys none of today's
    learner-courses hold: the table was built under another pseudonym secret, or
    by a version of the project with other keys, and adding rows would mix two
    sets of keys. A sample of stored keys is looked up; a learner who has left
    since is no alarm while others match. Returns no SQL. -#}
{% macro check_stored_learner_keys(course_learners) -%}
    {%- if execute and is_incremental() -%}
        {%- set matching = run_query(
            'select count(*) as stored, count(course_learners.learner_course_id) as current'
            ~ ' from (select distinct learner_course_id from ' ~ this
            ~ ' where learner_course_id is not null limit 20) as stored_keys'
            ~ ' left join ' ~ course_learners ~ ' as course_learners'
            ~ ' on stored_keys.learner_course_id = course_learners.learner_course_id'
        ) -%}
        {%- set stored, current = matching.rows[0][0], matching.rows[0][1] -%}
        {%- if stored > 0 and current == 0 -%}
            {{ exceptions.raise_compiler_error(
                this.identifier ~ ' holds learner keys of another pseudonym secret (or of an older '
                ~ 'version of the project): none of ' ~ stored ~ ' stored keys is a learner-course '
                ~ 'today. Rebuild once with `dbt build --full-refresh` (docs/privacy.md, rotating '
                ~ 'the secret).'
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
