"""Keys, access and owners, read from the manifest and the warehouse of the
built demo: the marts, risk and history tables are public and hold a contract
with a primary key, the models below them are protected, every model belongs
to a group with an owner, each declared foreign key points at the primary key
of a public table and no row of the demo breaks it. Primary keys are enforced
in DuckDB's tables; foreign keys are declared only (macros/declared_foreign_keys.sql)."""

from __future__ import annotations

import json
import re

import pytest

# Folders whose models BI tools and other projects read.
PUBLIC_FOLDERS = {"marts", "history"}


@pytest.fixture(scope="module")
def manifest(built_demo) -> dict:
    return json.loads((built_demo.directory / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def models(manifest) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "moodle_analytics"
    }


def primary_key(node: dict) -> list[str]:
    """The primary key's columns, declared on a column or on the model."""
    on_columns = [
        column["name"]
        for column in node["columns"].values()
        for constraint in column["constraints"]
        if constraint["type"] == "primary_key"
    ]
    on_model = [
        name
        for constraint in node["constraints"]
        if constraint["type"] == "primary_key"
        for name in constraint["columns"]
    ]
    return on_columns + on_model


def foreign_keys(models: dict[str, dict]) -> list[tuple[str, dict, str]]:
    """(model, constraint with its to_columns, referenced model) of every declared
    foreign key: `to: ref(...)`, or `expression: <model> (<columns>)` where a ref
    would be a cycle."""
    found = []
    for name, node in models.items():
        for constraint in node["constraints"]:
            if constraint["type"] != "foreign_key":
                continue
            if constraint["to"]:
                # "ref('dim_courses')" as parsed, or the relation once compiled.
                target = re.sub(r"""^ref\(['"](\w+)['"]\)$""", r"\1", constraint["to"])
                found.append((name, constraint, target.split(".")[-1].strip('"')))
            else:
                target, columns = re.fullmatch(
                    r"(\w+) \(([\w, ]+)\)", constraint["expression"]
                ).groups()
                found.append((name, {**constraint, "to_columns": columns.split(", ")}, target))
    return found


def test_every_model_declares_its_access_and_an_owning_group(models, manifest):
    groups = {group["name"]: group for group in manifest["groups"].values()}
    assert set(groups) == {"engagement", "risk", "actions", "data_quality"}
    assert all(
        group["owner"].get("name") and group["owner"].get("email") for group in groups.values()
    )
    assert {
        name: node["access"]
        for name, node in models.items()
        if node["access"] not in ("public", "protected")
    } == {}
    assert {
        name: node["group"] for name, node in models.items() if node["group"] not in groups
    } == {}


def test_marts_risk_and_history_are_public_and_the_layers_below_protected(models):
    public = {name for name, node in models.items() if node["access"] == "public"}
    assert public == {name for name, node in models.items() if node["fqn"][1] in PUBLIC_FOLDERS}
    assert {
        "dim_courses",
        "fct_learner_risk_scores",
        "fct_log_quarantine",
        "fct_intervention_queue",
    } <= public


def test_every_public_model_has_a_contract_and_a_primary_key(models):
    problems = {}
    for name, node in models.items():
        if node["access"] != "public":
            continue
        # dbt holds only SQL models to a contract; a Python model declares its key.
        if not node["contract"]["enforced"] and node["language"] != "python":
            problems[name] = "no enforced contract"
        elif len(primary_key(node)) != 1:
            problems[name] = f"primary key {primary_key(node)}"
    assert problems == {}


def test_foreign_keys_point_at_the_primary_key_of_a_public_model(models):
    problems = []
    for name, constraint, target in foreign_keys(models):
        node, referenced = models[name], models.get(target)
        if referenced is None or referenced["access"] != "public":
            problems.append(f"{name} -> {target}: not a public model")
        elif constraint["to_columns"] != primary_key(referenced):
            problems.append(f"{name} -> {target}{constraint['to_columns']}: not its primary key")
        elif (
            constraint["to"]
            and f"model.moodle_analytics.{target}" not in node["depends_on"]["nodes"]
        ):
            problems.append(f"{name} -> {target}: not upstream in the lineage")
        else:
            for column, to_column in zip(
                constraint["columns"], constraint["to_columns"], strict=True
            ):
                declared = node["columns"].get(column, {}).get("data_type")
                if declared is None or declared != referenced["columns"][to_column]["data_type"]:
                    problems.append(f"{name}.{column} ({declared}) -> {target}.{to_column}")
    assert problems == []
    # The star: every fact of engagement joins its learner, course and learner-course.
    assert {(name, target) for name, _, target in foreign_keys(models)} >= {
        ("fct_learner_weeks", "dim_learners"),
        ("fct_learner_weeks", "dim_courses"),
        ("fct_learner_weeks", "fct_learner_courses"),
        ("fct_learner_risk_scores", "fct_learner_weeks"),
        ("fct_intervention_queue", "fct_learner_risk_scores"),
    }


def test_no_row_of_the_demo_breaks_a_foreign_key(models, built_demo):
    orphans = " union all ".join(
        f"select '{name}.{constraint['columns'][0]}' as foreign_key, count(*) as orphan_rows"
        f" from {models[name]['relation_name']} as child"
        f" where child.{constraint['columns'][0]} is not null"
        f" and not exists (select 1 from {models[target]['relation_name']} as parent"
        f" where parent.{constraint['to_columns'][0]} = child.{constraint['columns'][0]})"
        for name, constraint, target in foreign_keys(models)
    )
    broken = built_demo.query(f"select * from ({orphans}) where orphan_rows > 0")
    assert broken == []


def test_duckdb_enforces_the_primary_keys_and_no_foreign_key(models, built_demo):
    enforced = built_demo.query(
        "select table_name, constraint_type from duckdb_constraints()"
        " where constraint_type in ('PRIMARY KEY', 'FOREIGN KEY')"
    )
    sql_public = {
        node["alias"]
        for node in models.values()
        if node["access"] == "public" and node["language"] == "sql"
    }
    assert {table for table, kind in enforced if kind == "PRIMARY KEY"} >= sql_public
    assert [table for table, kind in enforced if kind == "FOREIGN KEY"] == []
