"""The documentation and key-test check (moodle_analytics.project_checks).

Unit tests run the checks on small hand-made manifests; the slow tests run them
on the real project after `dbt docs generate`, and on a copy of the project
with one description removed, which must fail.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dbt_project import BIN_DIR, PROJECT_DIR, Workspace
from moodle_analytics.project_checks import _macro_arguments, check_project, load_artifacts, main

PROJECT = "moodle_analytics"


# ---------------------------------------------------------------- hand-made artifacts


def _test_node(name: str, model: str, column: str | None = None, kwargs: dict | None = None):
    return {
        "resource_type": "test",
        "package_name": PROJECT,
        "name": f"{name}_{model}_{column}",
        "column_name": column,
        "attached_node": f"model.{PROJECT}.{model}",
        "test_metadata": {"name": name, "kwargs": kwargs or {"column_name": column}},
        "depends_on": {"nodes": [f"model.{PROJECT}.{model}"]},
    }


def _artifacts() -> tuple[dict, dict]:
    """A complete, passing project: one model, one macro, the log source, one exposure."""
    model = {
        "resource_type": "model",
        "package_name": PROJECT,
        "name": "fct_things",
        "description": "One row per thing.",
        "config": {"materialized": "table", "contract": {"enforced": False}},
        "constraints": [],
        "columns": {
            "thing_id": {"name": "thing_id", "description": "Key.", "constraints": []},
            "size": {"name": "size", "description": "How big.", "constraints": []},
        },
    }
    manifest = {
        "metadata": {"project_name": PROJECT},
        "nodes": {
            f"model.{PROJECT}.fct_things": model,
            "test.unique": _test_node("unique", "fct_things", "thing_id"),
            "test.not_null": _test_node("not_null", "fct_things", "thing_id"),
        },
        "sources": {
            f"source.{PROJECT}.moodle.logstore_standard_log": {
                "package_name": PROJECT,
                "source_name": "moodle",
                "name": "logstore_standard_log",
                "description": "The log.",
                "columns": {"id": {"name": "id", "description": "Row id."}},
                "freshness": {"warn_after": {"count": 1, "period": "day"}},
                "loaded_at_field": "timecreated",
            }
        },
        "macros": {
            f"macro.{PROJECT}.week_number": {
                "package_name": PROJECT,
                "name": "week_number",
                "description": "Week of a moment.",
                "arguments": [
                    {"name": "anchor_column", "description": "Start of week 1."},
                    {"name": "moment_column", "description": "The moment."},
                ],
                "macro_sql": "{% macro week_number(anchor_column, moment_column) -%}"
                "x{% endmacro %}",
            },
            f"macro.{PROJECT}.duckdb__week_number": {
                "package_name": PROJECT,
                "name": "duckdb__week_number",
                "description": "",
                "arguments": [],
                "macro_sql": "{% macro duckdb__week_number(anchor_column, moment_column) %}"
                "{% endmacro %}",
            },
            "macro.dbt.other_package": {
                "package_name": "dbt",
                "name": "other_package",
                "description": "",
                "arguments": [],
                "macro_sql": "{% macro other_package(a) %}{% endmacro %}",
            },
        },
        "exposures": {
            f"exposure.{PROJECT}.page": {
                "package_name": PROJECT,
                "name": "page",
                "description": "A page.",
                "depends_on": {"nodes": [f"model.{PROJECT}.fct_things"]},
            }
        },
    }
    catalog = {
        "nodes": {f"model.{PROJECT}.fct_things": {"columns": {"THING_ID": {}, "SIZE": {}}}},
        "sources": {f"source.{PROJECT}.moodle.logstore_standard_log": {"columns": {"id": {}}}},
    }
    return manifest, catalog


def _checks(manifest: dict, catalog: dict) -> set[tuple[str, str]]:
    return {(finding.check, finding.node) for finding in check_project(manifest, catalog).findings}


def test_a_complete_project_passes_at_full_coverage():
    report = check_project(*_artifacts())
    assert report.ok, report.text()
    assert all(coverage.percent == 100.0 for coverage in report.coverage.values())
    assert "All checks pass." in report.text()


def test_a_model_without_description_fails():
    manifest, catalog = _artifacts()
    manifest["nodes"][f"model.{PROJECT}.fct_things"]["description"] = "  "
    report = check_project(manifest, catalog)
    assert ("model description", "fct_things") in _checks(manifest, catalog)
    assert report.coverage["models described"].percent == 0.0


def test_a_real_column_missing_from_the_yml_fails():
    manifest, catalog = _artifacts()
    catalog["nodes"][f"model.{PROJECT}.fct_things"]["columns"]["colour"] = {}
    report = check_project(manifest, catalog)
    assert [str(f) for f in report.findings] == ["[column description] fct_things: column colour"]
    assert report.coverage["model columns described"].passed == 2
    assert report.coverage["model columns described"].total == 3


def test_a_documented_column_the_model_lacks_fails():
    manifest, catalog = _artifacts()
    del catalog["nodes"][f"model.{PROJECT}.fct_things"]["columns"]["SIZE"]
    assert ("stale column", "fct_things") in _checks(manifest, catalog)


def test_a_model_not_built_is_reported_instead_of_passing_silently():
    manifest, catalog = _artifacts()
    catalog["nodes"].clear()
    assert ("not in catalog", "fct_things") in _checks(manifest, catalog)


def test_a_model_without_key_test_fails():
    manifest, catalog = _artifacts()
    del manifest["nodes"]["test.not_null"]
    assert ("key test", "fct_things") in _checks(manifest, catalog)


@pytest.mark.parametrize("kind", ["contract_constraint", "combination_test"])
def test_other_forms_of_key_test_count(kind):
    manifest, catalog = _artifacts()
    del manifest["nodes"]["test.not_null"]
    model = manifest["nodes"][f"model.{PROJECT}.fct_things"]
    if kind == "contract_constraint":
        model["config"]["contract"]["enforced"] = True
        model["columns"]["thing_id"]["constraints"] = [{"type": "not_null"}]
    else:
        del manifest["nodes"]["test.unique"]
        manifest["nodes"]["test.combo"] = _test_node(
            "unique_combination_of_columns",
            "fct_things",
            None,
            {"combination_of_columns": ["thing_id", "size"]},
        )
    assert check_project(manifest, catalog).ok


def test_a_macro_argument_without_description_fails():
    manifest, catalog = _artifacts()
    macro = manifest["macros"][f"macro.{PROJECT}.week_number"]
    macro["arguments"] = macro["arguments"][:1]
    findings = {str(f) for f in check_project(manifest, catalog).findings}
    assert findings == {"[macro argument] week_number: argument moment_column has no description"}


def test_a_macro_without_description_fails_and_implementations_follow_their_dispatcher():
    manifest, catalog = _artifacts()
    manifest["macros"][f"macro.{PROJECT}.week_number"]["description"] = ""
    report = check_project(manifest, catalog)
    assert ("macro description", "week_number") in {(f.check, f.node) for f in report.findings}
    # The undocumented duckdb__ implementation counts as documented only when its dispatcher is.
    assert report.coverage["macros described"].passed == 0
    assert report.coverage["macros described"].total == 2


def test_documented_arguments_must_exist_in_the_signature():
    manifest, catalog = _artifacts()
    macro = manifest["macros"][f"macro.{PROJECT}.week_number"]
    macro["arguments"].append({"name": "timezone", "description": "Gone."})
    assert ("macro argument", "week_number") in _checks(manifest, catalog)


@pytest.mark.parametrize(
    ("signature", "arguments"),
    [
        ("{% macro now_utc() -%}", []),
        (
            "{% test value_between(model, column_name, min_value, max_value) %}",
            ["model", "column_name", "min_value", "max_value"],
        ),
        (
            """{% macro w(column, empty_value="cast('x' as " ~ t() ~ ")", z={'a': (1, 2)}) %}""",
            ["column", "empty_value", "z"],
        ),
    ],
)
def test_macro_signatures_are_read_with_defaults_dropped(signature, arguments):
    assert _macro_arguments(signature + "x{% endmacro %}") == arguments


def test_the_log_source_needs_freshness():
    manifest, catalog = _artifacts()
    source = manifest["sources"][f"source.{PROJECT}.moodle.logstore_standard_log"]
    source["freshness"] = {"warn_after": {"count": None, "period": None}, "error_after": {}}
    assert ("source freshness", "moodle.logstore_standard_log") in _checks(manifest, catalog)
    del manifest["sources"][f"source.{PROJECT}.moodle.logstore_standard_log"]
    assert ("source freshness", "moodle.logstore_standard_log") in _checks(manifest, catalog)


def test_a_source_table_a_command_writes_on_demand_may_be_absent():
    manifest, catalog = _artifacts()
    del catalog["sources"][f"source.{PROJECT}.moodle.logstore_standard_log"]
    assert ("not in catalog", "moodle.logstore_standard_log") in _checks(manifest, catalog)
    source = manifest["sources"][f"source.{PROJECT}.moodle.logstore_standard_log"]
    source["meta"] = {"written_by": "moodle-risk-evaluate"}
    assert ("not in catalog", "moodle.logstore_standard_log") not in _checks(manifest, catalog)


def test_an_undocumented_source_column_fails():
    manifest, catalog = _artifacts()
    catalog["sources"][f"source.{PROJECT}.moodle.logstore_standard_log"]["columns"]["ip"] = {}
    assert ("column description", "moodle.logstore_standard_log") in _checks(manifest, catalog)


def test_an_exposure_on_a_view_fails():
    manifest, catalog = _artifacts()
    manifest["nodes"][f"model.{PROJECT}.fct_things"]["config"]["materialized"] = "view"
    assert ("exposure parent", "page") in _checks(manifest, catalog)


def test_a_unit_test_name_postgres_would_cut_fails():
    manifest, catalog = _artifacts()
    name = "a_unit_test_whose_name_says_everything_it_checks_in_sixty_four_b"
    manifest["unit_tests"] = {
        f"unit_test.{PROJECT}.fct_things.{name}": {
            "resource_type": "unit_test",
            "package_name": PROJECT,
            "name": name,
        }
    }
    assert len(name) == 64
    assert ("name length", name) in _checks(manifest, catalog)
    manifest["unit_tests"][f"unit_test.{PROJECT}.fct_things.{name}"]["name"] = name[:63]
    assert check_project(manifest, catalog).ok


def test_cli_exit_status_and_output(tmp_path, capsys):
    manifest, catalog = _artifacts()
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    assert main(["--target", str(tmp_path)]) == 0
    assert "model columns described" in capsys.readouterr().out

    broken = copy.deepcopy(manifest)
    broken["nodes"][f"model.{PROJECT}.fct_things"]["columns"]["size"]["description"] = ""
    (tmp_path / "manifest.json").write_text(json.dumps(broken))
    assert main(["--target", str(tmp_path)]) == 1
    assert "[column description] fct_things: column size" in capsys.readouterr().out

    assert main(["--target", str(tmp_path / "nowhere")]) == 2
    assert "dbt docs generate" in capsys.readouterr().err


# ---------------------------------------------------------------- the real project

_GENERATED: dict[Path, Path] = {}


def generated_docs(workspace: Workspace) -> Path:
    """Target directory of `dbt docs generate --static` on a built workspace (run once per
    workspace): manifest.json, catalog.json, index.html and static_index.html."""
    if workspace.directory not in _GENERATED:
        target = workspace.directory / "docs_target"
        result = subprocess.run(
            [
                str(BIN_DIR / "dbt"),
                "docs",
                "generate",
                "--static",
                "--target-path",
                str(target),
                "--log-path",
                str(workspace.directory / "docs_logs"),
            ],
            cwd=PROJECT_DIR,
            env=workspace.env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout[-4000:]
        _GENERATED[workspace.directory] = target
    return _GENERATED[workspace.directory]


@pytest.mark.slow
def test_the_project_is_fully_documented_and_key_tested(built_demo, capsys):
    target = generated_docs(built_demo)
    status = main(["--target", str(target)])
    output = capsys.readouterr().out
    print(output)
    assert status == 0, output
    assert "All checks pass." in output
    manifest, catalog = load_artifacts(target)
    report = check_project(manifest, catalog)
    # Every Moodle source table of the project and the school's outcomes
    # (moodle-risk-evaluate), every column of them documented.
    assert report.coverage["source tables described"].total == 32
    assert report.coverage["source columns described"].total > 500


def _copy_project(destination: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        "data",
        "target",
        "logs",
        "artifacts",
        "site",
        "dbt_packages",
        "__pycache__",
        "*.egg-info",
        ".pytest_cache",
        ".ruff_cache",
        "python_scripts",
        "tests",
    )
    shutil.copytree(PROJECT_DIR, destination, ignore=ignore)
    # The demo's programmes, which the builds of the tests read (MOODLE_PROGRAMMES_DIR).
    programmes = Path("python_scripts/moodle_analytics/demo/programmes")
    shutil.copytree(PROJECT_DIR / programmes, destination / programmes)
    # Singular and generic tests belong to the project too.
    shutil.copytree(
        PROJECT_DIR / "tests", destination / "tests", ignore=shutil.ignore_patterns("python")
    )
    return destination


@pytest.mark.slow
def test_a_project_copy_with_a_description_removed_fails(built_demo, tmp_path, capsys):
    copy_dir = _copy_project(tmp_path / "project")
    yml = copy_dir / "models" / "marts" / "core" / "_core__models.yml"
    document = yaml.safe_load(yml.read_text())
    model = next(m for m in document["models"] if m["name"] == "fct_learner_weeks")
    column = next(c for c in model["columns"] if c["name"] == "minutes_on_task")
    column["description"] = ""
    yml.write_text(yaml.safe_dump(document, sort_keys=False))

    target = tmp_path / "target"
    env = dict(built_demo.env, DBT_PROFILES_DIR=str(copy_dir))
    result = subprocess.run(
        [
            str(BIN_DIR / "dbt"),
            "parse",
            "--target-path",
            str(target),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=copy_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    # The relations did not change: the built project's catalog describes them.
    shutil.copy(generated_docs(built_demo) / "catalog.json", target / "catalog.json")

    status = main(["--target", str(target)])
    output = capsys.readouterr().out
    assert status == 1
    assert "[column description] fct_learner_weeks: column minutes_on_task" in output
