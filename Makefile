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

.PHONY: help run test venv spark-venv demo-data build docs lint pytest clean

help:
	@echo "make run    set up, generate demo Moodle data, dbt build, docs site and dashboard"
	@echo "make test   set up, lint, and run every test (PostgreSQL, Spark and browser included)"
	@echo "make docs   regenerate the dbt docs site"
	@echo "make lint   sqlfluff and ruff"
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

$(SOURCE_DB): $(BIN)/.installed
	mkdir -p $(DATA)
	$(BIN)/moodle-demo-data --duckdb $(SOURCE_DB) --ground-truth $(DATA)/demo_ground_truth.csv

demo-data: $(SOURCE_DB)

build: demo-data
	$(DBT) build

run: build
	@echo "Done: warehouse $(DATA)/moodle_analytics.duckdb"

lint: venv
	$(BIN)/ruff check python_scripts tests models
	$(BIN)/ruff format --check python_scripts tests models
	$(BIN)/sqlfluff lint models tests analyses macros

pytest: venv
	$(BIN)/pytest

test: venv lint pytest

clean:
	rm -rf $(VENV) $(DATA) target logs artifacts
