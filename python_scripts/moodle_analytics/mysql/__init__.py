"""MySQL and MariaDB: where most Moodle sites keep their tables, and a target for the marts.

* check.py: the logins of the duckdb_mysql target from MOODLE_MYSQL_* and
  ANALYTICS_MYSQL_*, reached through DuckDB's mysql extension and checked with a
  message naming the variable to fix;
* server.py: a private MariaDB server on 127.0.0.1 (tests, `make mysql-build`);
* load.py: the Moodle tables loaded as Moodle's installer creates them on MySQL;
* roles.py: the reader, builder and BI logins a site builds and reads as;
* duckdb_plugin.py: DuckDB over MySQL/MariaDB (the duckdb_mysql target);
* cli.py: moodle-mysql (start, load, status, stop, check).

What any engine shares (Moodle's tables, the MySQL dialect of CREATE TABLE, the
source, the packaged DuckDB extensions, env files) is in moodle_db/.
"""
