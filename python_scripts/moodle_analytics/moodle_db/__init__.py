"""Moodle's database as every engine sees it; the seam between the engine subpackages.

* tables.py: Moodle's tables, columns, keys and indexes (moodle_columns.csv,
  moodle_indexes.csv), as Moodle 5.1 installs them.
* ddl.py: CREATE TABLE in an engine's dialect (one create_table_sql), the type
  mapping from Moodle's column types, identifier rules.
* source.py: a copy of the Moodle tables to load from, in a DuckDB file or a
  directory of Parquet files, read through DuckDB.
* duckdb_files.py: what is a DuckDB database, and replacing one whole (a load
  writes beside the target and renames over it only when it succeeded).
* extensions.py: DuckDB's postgres and mysql extensions, from their wheels.
* logins.py, logins_plugin.py: a login read from environment variables (Login,
  what to fix after a failed connection, its DuckDB secret, a site's three login
  names), and the dbt-duckdb plugin the duckdb_pg and duckdb_mysql targets build on.
* local_server.py: what the private servers share (LocalServer: a server in its
  own directory on a free loopback port, its marker and env file, installing it).
* server_commands.py: the start, stop, status and load subcommands of
  moodle-pg and moodle-mysql, their options and one-line errors.

postgres/ and mysql/ build on these (each loads a MoodleSource with Moodle's
keys and its engine's types, and has its roles, checks and dbt plugin); the
file sink (moodle_sink.py) writes DuckDB, Parquet and CSV with the same
definitions.
"""
