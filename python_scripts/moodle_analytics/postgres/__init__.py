"""PostgreSQL: the Moodle database of the sites that run on it, and a target for the marts.

* server.py: a private PostgreSQL cluster on 127.0.0.1 (tests, `make pg-build`);
* load.py, copy.py, schema.py: the Moodle tables loaded as Moodle holds them
  (types, keys, indexes, sequences), from a moodle_db.MoodleSource;
* roles.py: the reader, builder and BI logins a site builds and reads as;
* check.py: the connection settings of the postgres and duckdb_pg targets,
  checked with a message naming the variable to fix;
* duckdb_plugin.py, extension.py: DuckDB over PostgreSQL (the duckdb_pg target);
* cli.py: moodle-pg (start, load, status, stop, check, bench).

What any engine shares (Moodle's tables and keys, DDL, the source) is in
moodle_db/; the timed builds of `moodle-pg bench` are in bench/postgres.py.
"""
