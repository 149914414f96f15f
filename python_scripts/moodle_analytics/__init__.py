"""moodle-analytics: the command lines of the project and the logic its dbt Python models call.

One subpackage per purpose, each saying in its __init__ what it owns:

* moodle_db/: Moodle's tables and keys, DDL for each engine, a copy of the tables to
  load from; what every engine shares.
* postgres/: a private PostgreSQL server, the Moodle tables loaded into it, roles,
  connection checks, DuckDB over PostgreSQL (moodle-pg).
* spark/: the project on Apache Spark (moodle-spark).
* demo/: a generated Moodle site to build on (moodle-demo-data).
* logs_report/: Moodle's Logs report downloads as Moodle tables (moodle-logs-import).
* risk/: dropout risk scores, their settings and backtest (the dbt Python models).
* dashboard/: the static dashboard page (moodle-dashboard).
* messages/: reminder and outreach messages from the action lists (moodle-messages).
* bench/: speed and memory at scale (moodle-bench).

Beside them: moodle_sink.py writes the Moodle tables to DuckDB, Parquet and CSV;
import_files.py loads table exports (moodle-import-files); event_catalogue.py reads
the event catalogue seed; project_checks.py checks the dbt project's documentation
and key tests (moodle-project-checks); cli_options.py defines what command lines
share: options, path checks and one-line errors.
"""
