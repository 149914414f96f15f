"""Moodle's database as every engine sees it; the seam between the engine subpackages.

* tables.py: Moodle's tables, columns, keys and indexes (moodle_columns.csv,
  moodle_indexes.csv), as Moodle 5.1 installs them.
* ddl.py: CREATE TABLE in an engine's dialect (one create_table_sql), the type
  mapping from Moodle's column types, identifier rules.
* source.py: a copy of the Moodle tables to load from, in a DuckDB file or a
  directory of Parquet files, read through DuckDB.
* duckdb_files.py: what is a DuckDB database, and replacing one whole (a load
  writes beside the target and renames over it only when it succeeded).

postgres/ builds on these (load.py copies a MoodleSource into PostgreSQL with
Moodle's keys, sequences and roles); the file sink (moodle_sink.py) writes
DuckDB, Parquet and CSV with the same definitions. Another engine (MySQL or
MariaDB) adds a Dialect to ddl.py and its own subpackage beside postgres/.
"""
