"""The layers of the project, read from the manifest of a build: marts read
intermediate models and other marts, never staging; intermediate models never
read marts; every staging model feeds something; a model with more than six
inputs names each of them in its description (what it reads it for)."""

from __future__ import annotations

import json

import pytest

MAX_PARENTS = 6
# A model of the first layer may not read a model of the second.
FORBIDDEN = {("marts", "staging"), ("intermediate", "marts")}


@pytest.fixture(scope="module")
def models(built_demo) -> dict[str, dict]:
    manifest = json.loads((built_demo.directory / "target" / "manifest.json").read_text())
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "moodle_analytics"
    }


# history (status kept by the snapshots) is served to BI beside the marts, under
# their rules; semantic holds the metrics' time spine, which reads nothing.
SERVED_LIKE_MARTS = {"history"}


def layer(node: dict) -> str:
    folder = node["fqn"][1]
    return "marts" if folder in SERVED_LIKE_MARTS else folder


def parents(node: dict) -> list[str]:
    return [parent.split(".")[-1] for parent in node["depends_on"]["nodes"]]


def test_marts_never_read_staging_and_intermediate_never_reads_marts(models):
    crossing = [
        f"{name} <- {parent}"
        for name, node in models.items()
        for parent in parents(node)
        if parent in models and (layer(node), layer(models[parent])) in FORBIDDEN
    ]
    assert crossing == []
    assert {layer(node) for node in models.values()} == {
        "staging",
        "intermediate",
        "marts",
        "semantic",
    }


def test_every_staging_model_feeds_a_model(models):
    read = {parent for node in models.values() for parent in parents(node)}
    staging = {name for name, node in models.items() if layer(node) == "staging"}
    unused = sorted(staging - read)
    assert unused == []


def inputs(node: dict) -> list[str]:
    """The parents a model reads: named in its code. A foreign key's `to: ref(...)`
    (models/overview.md) puts the referenced mart upstream without being read."""
    return [parent for parent in parents(node) if parent in node["raw_code"]]


def test_a_model_with_many_inputs_says_what_each_is_for(models):
    silent = {
        name: sorted(parent for parent in inputs(node) if parent not in node["description"])
        for name, node in models.items()
        if len(inputs(node)) > MAX_PARENTS
    }
    assert {name: missing for name, missing in silent.items() if missing} == {}
    # The rule has something to hold: the project has such models.
    assert silent
