# moodle-analytics: the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA := data
DBT := $(BIN)/dbt
SOURCE_DB := $(DATA)/moodle_source.duckdb
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# The demo site's programmes (a site's own: set it to their directory, docs/actions.md).
export MOODLE_PROGRAMMES_DIR ?= python_scripts/moodle_analytics/demo/programmes
# A site's own build (a Logs download, a school's outcomes) is no demo: its programmes
# are the ones the user names, else none.
SITE_PROGRAMMES_DIR := $(if $(filter environment command line,$(origin MOODLE_PROGRAMMES_DIR)),$(MOODLE_PROGRAMMES_DIR),programmes)

PG_ENV := $(DATA)/postgres.env
MYSQL_ENV := $(DATA)/mysql.env

.PHONY: help run test venv spark-venv metricflow-venv system-packages demo-data build docs dashboard lint pytest clean
.PHONY: pg-start pg-load pg-build pg-duckdb-build pg-status pg-stop risk-report risk-evaluate logs-report messages bench spark
.PHONY: mysql-start mysql-load mysql-build mysql-status mysql-stop

help:
	@echo "make run    set up, generate demo Moodle data, dbt build, docs site and dashboard"
	@echo "make test   set up, lint, and run every test (PostgreSQL, Spark and browser included)"
	@echo "make docs   regenerate the dbt docs site and check documentation coverage"
	@echo "make dashboard  regenerate the dashboard page"
	@echo "make risk-report   AUC of the demo's risk scores against its designed truth, by week"
	@echo "make risk-evaluate OUTCOMES=grades.csv EVALUATE_ARGS=\"...\"   risk scores against a school's outcomes"
	@echo "make logs-report FILES=\"a.csv b.csv\" TIMEZONE=Europe/Paris   build from Logs report downloads"
	@echo "make messages   render reminder and outreach messages into data/messages"
	@echo "make bench  speed and memory at 1 and 10 million log rows (BENCH_ARGS=\"--with-100m --postgres\")"
	@echo "make pg-build   a private PostgreSQL server with the demo Moodle tables, dbt build on target postgres"
	@echo "make pg-duckdb-build   the same server, dbt build on target duckdb_pg (make pg-stop when done)"
	@echo "make mysql-build   a private MariaDB server with the demo Moodle tables, dbt build on target duckdb_mysql"
	@echo "make spark  the demo on Apache Spark (local session): dbt build, then risk scores on DuckDB"
	@echo "make metricflow-venv   install mf, the semantic layer's query tool (docs/bi.md)"
	@echo "make lint   ruff and sqlfluff"
	@echo "make clean  remove the virtual environment, data and build output"

# The virtual environment is rebuilt whenever the pins change.
$(BIN)/.installed: requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(BIN)/.installed

$(BIN)/.installed-spark: $(BIN)/.installed requirements-spark.txt
	$(BIN)/pip install --quiet -r requirements-spark.txt -c constraints.txt
	touch $@

spark-venv: $(BIN)/.installed-spark

# The semantic layer's query tool, mf (MetricFlow); the tests run it.
$(BIN)/.installed-metricflow: $(BIN)/.installed requirements-metricflow.txt
	$(BIN)/pip install --quiet -r requirements-metricflow.txt -c constraints.txt
	touch $@

metricflow-venv: $(BIN)/.installed-metricflow

# PostgreSQL and MariaDB (the tests start private servers) and Chromium
# (rendering checks) come from Debian; installed only when missing.
system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	{ command -v mariadb-install-db && { command -v mariadbd || [ -x /usr/sbin/mariadbd ]; }; } >/dev/null 2>&1 || missing="$$missing mariadb-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(SOURCE_DB): | $(BIN)/.installed
	mkdir -p $(DATA)
	$(BIN)/moodle-demo-data --duckdb $(SOURCE_DB) --ground-truth $(DATA)/demo_ground_truth.csv

demo-data: $(SOURCE_DB)

build: demo-data
	$(DBT) build

# One self-contained file that opens offline; the check fails below 100%
# documented models, columns, macros and sources.
docs: build
	$(DBT) docs generate --static
	$(BIN)/moodle-project-checks --target target

dashboard: build
	$(BIN)/moodle-dashboard --warehouse $(DATA)/moodle_analytics.duckdb --source $(SOURCE_DB) --out site/dashboard.html

run: build docs dashboard
	@echo
	@echo "Warehouse:  $(CURDIR)/$(DATA)/moodle_analytics.duckdb"
	@echo "Docs site:  $(CURDIR)/target/static_index.html"
	@echo "Dashboard:  $(CURDIR)/site/dashboard.html"

lint: venv demo-data
	$(BIN)/ruff check python_scripts tests models
	$(BIN)/ruff format --check python_scripts tests models
	$(BIN)/sqlfluff lint models tests analyses snapshots --processes 2

# Three processes, whole modules to each (tests/python/conftest.py says what they
# share and in which order they start; xdist would reorder them by test count). Both
# cores stay busy throughout; docs/benchmark.md has the figures.
PYTEST_ARGS ?= -n 3 --dist loadfile --no-loadscope-reorder

pytest: venv spark-venv metricflow-venv system-packages
	$(BIN)/pytest $(PYTEST_ARGS)

# Lint beside the tests.
test:
	$(MAKE) --no-print-directory -j2 lint pytest

# Risk scores against the demo generator's designed truth (never seen by the models).
risk-report: build
	$(BIN)/moodle-risk-report --warehouse $(DATA)/moodle_analytics.duckdb --ground-truth $(DATA)/demo_ground_truth.csv --plot artifacts/risk_backtest_auc_by_week.png

# Risk scores against outcomes the school already has (docs/risk-scores.md), e.g.
#   make risk-evaluate OUTCOMES=Course_Grades.csv EVALUATE_ARGS="--learner-column StudentId \
#       --course myCourseName --grade-column Overall --pass-mark 40"
# Without OUTCOMES: the demo's outcomes (did not pass a finished course), from its ground truth.
DEMO_OUTCOME_ARGS := --learner-column user_id --learner-key user_id --course-column course_id \
	--course-key course_id --result-column outcome --fail-values failed,dropped_out,never_started \
	--pass-values passed --only course_finished=True \
	--outcome-name "did not pass (failed, dropped out or never started)"
risk-evaluate: MOODLE_PROGRAMMES_DIR := $(if $(OUTCOMES),$(SITE_PROGRAMMES_DIR),$(MOODLE_PROGRAMMES_DIR))
risk-evaluate: venv $(if $(OUTCOMES),,build)
	$(BIN)/moodle-risk-evaluate $(or $(OUTCOMES),$(DATA)/demo_ground_truth.csv) \
		$(if $(OUTCOMES),$(EVALUATE_ARGS),$(DEMO_OUTCOME_ARGS)) \
		--warehouse $(DATA)/moodle_analytics.duckdb --source $(SOURCE_DB) --plot artifacts/risk_evaluation.png
	$(BIN)/moodle-dashboard --warehouse $(DATA)/moodle_analytics.duckdb --source $(SOURCE_DB) --out site/dashboard.html

# Build from Moodle "Logs" report downloads, for a teacher without database access
# (a real site: its pseudonym secret is made on first use, docs/privacy.md):
#   make logs-report FILES="ALG101_2025FA.csv ALG101_2026SP.csv" TIMEZONE=Europe/Paris
# A file name with spaces: FILES="Moodle Module 3 SP17.csv" (one file), or quote each
# name: FILES="'Module 3 SP17.csv' 'Module 3 SP18.csv'". The same for GRADES and ROSTER.
# Optional: GRADES="grades.csv ..." (COURSE=grades.csv names its course), ROSTER=learners.csv,
# IMPORT_ARGS="--course-end ALG101=2026-06-26" (any moodle-logs-import option).
# The names are read from the environment (make exports command-line variables), so that
# the shell, not make, splits them: a name that is one existing file stays whole.
TIMEZONE ?= UTC
export FILES GRADES ROSTER
logs-report: MOODLE_PROGRAMMES_DIR := $(SITE_PROGRAMMES_DIR)
logs-report: venv
	@test -n "$$FILES" || { echo 'usage: make logs-report FILES="course.csv ..." [TIMEZONE=Europe/Paris] [GRADES="grades.csv ..."] [ROSTER=learners.csv] [IMPORT_ARGS="..."]'; exit 2; }
	mkdir -p $(DATA)
	if [ -f "$$FILES" ]; then set -- "$$FILES"; else eval "set -- $$FILES"; fi; \
	if [ -n "$$GRADES" ]; then \
		if [ -f "$$GRADES" ]; then set -- "$$@" --grades "$$GRADES"; \
		else eval "for grades in $$GRADES; do set -- \"\$$@\" --grades \"\$$grades\"; done"; fi; \
	fi; \
	if [ -n "$$ROSTER" ]; then set -- "$$@" --roster "$$ROSTER"; fi; \
	MOODLE_PSEUDONYM_SECRET="$${MOODLE_PSEUDONYM_SECRET:-$$($(BIN)/moodle-pseudonym-secret)}"; \
	export MOODLE_PSEUDONYM_SECRET; \
	$(BIN)/moodle-logs-import "$$@" --duckdb $(SOURCE_DB) --timezone $(TIMEZONE) \
		$(IMPORT_ARGS) --build --warehouse $(DATA)/moodle_analytics.duckdb
	$(BIN)/moodle-dashboard --warehouse $(DATA)/moodle_analytics.duckdb --source $(SOURCE_DB) --out site/dashboard.html

# Contact lists need names and e-mail addresses: built with include_pii.
messages: build
	$(DBT) build -s models/marts/actions rpt_outreach_upgrade_track rpt_outreach_next_course --vars '{include_pii: true}'
	for list in reminders upgrade next-course; do $(BIN)/moodle-messages --list $$list --out $(DATA)/messages; done

# Not part of the tests: generates 1 and 10 million row sites once (data/bench), then
# times the full and incremental builds against the floor and the pandas way.
bench: venv
	$(BIN)/moodle-bench --out artifacts/bench.json $(BENCH_ARGS)

# The demo's Moodle tables as Parquet, built by dbt-spark in a local Spark session
# (data/spark), the risk models run on DuckDB from the features Spark wrote.
spark: spark-venv demo-data
	$(BIN)/moodle-spark --duckdb $(SOURCE_DB) --spark-dir $(DATA)/spark $(SPARK_ARGS)

# A private PostgreSQL server on 127.0.0.1; connection settings in $(PG_ENV).
pg-start: venv system-packages
	$(BIN)/moodle-pg status --env-file $(PG_ENV) >/dev/null || $(BIN)/moodle-pg start --env-file $(PG_ENV)

pg-load: pg-start demo-data
	$(BIN)/moodle-pg load --duckdb $(SOURCE_DB) --replace --env-file $(PG_ENV)

# Built as the roles a site would use: moodle_builder in the Moodle database;
# for duckdb_pg, moodle_reader reads Moodle and moodle_builder writes "analytics".
pg-build: pg-load
	source $(PG_ENV) && MOODLE_PG_USER=$$MOODLE_PG_BUILDER_USER MOODLE_PG_PASSWORD=$$MOODLE_PG_BUILDER_PASSWORD \
		DBT_TARGET=postgres $(DBT) build

pg-duckdb-build: pg-load
	source $(PG_ENV) && MOODLE_PG_USER=$$MOODLE_PG_READER_USER MOODLE_PG_PASSWORD=$$MOODLE_PG_READER_PASSWORD \
		ANALYTICS_PG_USER=$$MOODLE_PG_BUILDER_USER ANALYTICS_PG_PASSWORD=$$MOODLE_PG_BUILDER_PASSWORD \
		DBT_TARGET=duckdb_pg $(DBT) build

pg-status: venv
	$(BIN)/moodle-pg status --env-file $(PG_ENV)

pg-stop: venv
	$(BIN)/moodle-pg stop --env-file $(PG_ENV)

# A private MariaDB server on 127.0.0.1; connection settings in $(MYSQL_ENV).
mysql-start: venv system-packages
	$(BIN)/moodle-mysql status --env-file $(MYSQL_ENV) >/dev/null || $(BIN)/moodle-mysql start --env-file $(MYSQL_ENV)

mysql-load: mysql-start demo-data
	$(BIN)/moodle-mysql load --duckdb $(SOURCE_DB) --replace --env-file $(MYSQL_ENV)

# Built as the logins a site would use: moodle_reader reads the Moodle database,
# moodle_builder publishes the marts to the "analytics" database, moodle_bi reads them.
mysql-build: mysql-load
	source $(MYSQL_ENV) && MOODLE_MYSQL_USER=$$MOODLE_MYSQL_READER_USER MOODLE_MYSQL_PASSWORD=$$MOODLE_MYSQL_READER_PASSWORD \
		ANALYTICS_MYSQL_USER=$$MOODLE_MYSQL_BUILDER_USER ANALYTICS_MYSQL_PASSWORD=$$MOODLE_MYSQL_BUILDER_PASSWORD \
		DBT_TARGET=duckdb_mysql $(DBT) build

mysql-status: venv
	$(BIN)/moodle-mysql status --env-file $(MYSQL_ENV)

mysql-stop: venv
	$(BIN)/moodle-mysql stop --env-file $(MYSQL_ENV)

clean:
	if [ -x $(BIN)/moodle-pg ]; then $(BIN)/moodle-pg stop --env-file $(PG_ENV) || true; fi
	if [ -x $(BIN)/moodle-mysql ]; then $(BIN)/moodle-mysql stop --env-file $(MYSQL_ENV) || true; fi
	rm -rf $(VENV) $(DATA) target logs artifacts site
