"""Pseudonyms that stay pseudonyms: no mart of the built demo names a Moodle user
id, hashing every id from 0 to a million under the public settings reverses no
learner, and the secret is made, kept and passed to SQL as data.

The marts come from the session's built demo (conftest.py), so only the two dbt
commands that check the secret's handling cost a dbt start.
"""

from __future__ import annotations

import json
import os
import shutil
import stat

import duckdb
import pandas as pd
import pytest

from dbt_project import Workspace
from moodle_analytics import pseudonyms
from moodle_analytics.pseudonyms import SECRET_VARIABLE, pseudonym

# Every Moodle id an attacker would try: Moodle ids are small integers.
ATTACK_IDS = 1_000_000
# What an attacker tries with the project's public settings: the schemes of
# md5 and sha256 with the former default salt, none, and this scheme's
# encoding with an empty or the former default key.
PUBLIC_SALT = "moodle-analytics"
PUBLIC_GUESSES = {
    "md5(salt || id)": f"md5('{PUBLIC_SALT}' || id)",
    "md5(id)": "md5(id)",
    "sha256(salt || id)": f"sha256('{PUBLIC_SALT}' || id)",
    "sha256(id)": "sha256(id)",
    "sha256(hex(salt) || ':' || id)": f"sha256('{PUBLIC_SALT.encode().hex()}:' || id)",
    "sha256(':' || id)": "sha256(':' || id)",
}


def mart_relations(workspace: Workspace) -> list[str]:
    """Every table of the marts and history layers, from the build's manifest."""
    manifest = json.loads((workspace.directory / "target" / "manifest.json").read_text())
    return sorted(
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["fqn"][1] in ("marts", "history")
        and node["config"]["materialized"] != "ephemeral"
    )


def names_user(value: str, user_id: str, course_id: str | None, person_id: str) -> bool:
    """Whether a key holds the user id as a key part, followed by the course id when the
    row has one ('746-22', 'ab-746-22-3'): not where the part after the row's own
    pseudonym is a course id that happens to equal the user id."""
    parts = value.split("-")
    return any(
        parts[i] == user_id
        and (course_id is None or parts[i + 1] == course_id)
        and (i == 0 or parts[i - 1] != person_id)
        for i in range(len(parts) - 1)
    )


def rows_naming_their_user(frame: pd.DataFrame, person: str, user_ids: pd.Series) -> dict:
    """Per text key column (named *_id or *_ids), the rows whose value holds the row's own
    Moodle user id."""
    users = user_ids.astype("Int64").astype(str).tolist()
    courses = (
        frame["course_id"].astype("Int64").astype(str).tolist()
        if "course_id" in frame
        else [None] * len(frame)
    )
    persons = frame[person].tolist()
    found = {}
    for column in frame.columns:
        values = frame[column]
        if (
            column == person
            or not column.endswith(("_id", "_ids"))
            or not pd.api.types.is_string_dtype(values)
        ):
            continue
        hits = sum(
            names_user(value, user, course, own)
            for value, user, course, own in zip(
                values.fillna("").tolist(), users, courses, persons, strict=True
            )
            if user != "<NA>"
        )
        if hits:
            found[column] = hits
    return found


@pytest.fixture(scope="module")
def demo(built_demo) -> tuple[Workspace, duckdb.DuckDBPyConnection]:
    with built_demo.connect() as connection:
        # Each Moodle user's pseudonym under the secret the build used: to find
        # the row's own user id, never to attack.
        connection.execute(
            "create temp table pseudonyms as "
            "select user_id, learner_id_of(user_id) as person_id from ("
            "select id as user_id from moodle.public.mdl_user union "
            "select userid from moodle.public.mdl_logstore_standard_log)"
        )
        yield built_demo, connection


def test_no_mart_names_a_moodle_user_id(demo):
    workspace, connection = demo
    relations = mart_relations(workspace)
    assert len(relations) > 20
    checked, leaks = 0, {}
    for relation in relations:
        frame = connection.execute(f"select * from {relation}").df()
        # Person columns of a mart never hold a Moodle user id, nor a raw integer.
        for column in frame.columns:
            if "user" in column and column != "user_enrolment_id":
                assert frame[column].isna().all(), f"{relation}.{column} is filled"
        person = next((c for c in ("learner_id", "staff_id") if c in frame.columns), None)
        if person is None or frame.empty:
            continue
        owners = frame[[person]].merge(
            connection.execute("select * from pseudonyms").df(),
            left_on=person,
            right_on="person_id",
            how="left",
        )
        assert owners.user_id.notna().mean() > 0.99, f"{relation}.{person} is not a pseudonym"
        found = rows_naming_their_user(frame, person, owners.user_id)
        if found:
            leaks[relation] = found
        checked += 1
    assert checked >= 10
    assert leaks == {}, leaks
    # The check finds the former keys: the user id as the first part of a learner key.
    former = pd.DataFrame(
        {
            "learner_id": ["ab"],
            "course_id": [22],
            "learner_course_id": ["746-22"],
            "intervention_id": ["cd-746-22"],
        }
    )
    assert rows_naming_their_user(former, "learner_id", pd.Series([746])) == {
        "learner_course_id": 1,
        "intervention_id": 1,
    }


def test_hashing_every_id_to_a_million_reverses_no_learner(demo):
    workspace, connection = demo
    learners = connection.execute(
        "select count(distinct learner_id) from analytics_marts.dim_learners"
    ).fetchone()[0]
    schemes = [*PUBLIC_GUESSES, "with the secret"]
    # The same attack given the demo's secret: the machinery does reverse ids.
    key = workspace.pseudonym_secret.encode().hex()
    expressions = [*PUBLIC_GUESSES.values(), f"sha256('{key}:' || id)"]
    guesses = " union all ".join(
        f"select {number} as scheme, id, {expression} as guess from ids"
        for number, expression in enumerate(expressions)
    )
    reversed_per_scheme = dict(
        connection.execute(
            f"""
            with
            ids as (select cast(range as varchar) as id from range(0, {ATTACK_IDS} + 1)),
            guesses as ({guesses}),
            learners as (select distinct learner_id from analytics_marts.dim_learners)
            select scheme, count(distinct learners.learner_id)
            from guesses
            inner join learners on guesses.guess = learners.learner_id
            group by scheme
            """
        ).fetchall()
    )
    reversed_per_scheme = {schemes[n]: count for n, count in reversed_per_scheme.items()}
    print(f"{learners} learners; reversed per scheme: {reversed_per_scheme}")
    assert reversed_per_scheme == {"with the secret": learners}


def test_the_secret_reaches_sql_as_data_and_python_agrees(built_demo, tmp_path):
    secret = "it's a \\ secret; drop table x; -- " + "0" * 20
    # The built demo's file names: dbt reuses the session's parse (the secret is no part of it).
    shutil.copy(built_demo.source, tmp_path / built_demo.source.name)
    workspace = Workspace(
        tmp_path,
        tmp_path / built_demo.source.name,
        tmp_path / built_demo.warehouse.name,
        built_demo.ground_truth,
        extra_env={SECRET_VARIABLE: secret},
    )
    result = workspace.dbt(
        "show", "--inline", "select {{ pseudonymous_id('746') }} as learner_id", "--output", "json"
    )
    shown = json.loads(result.stdout[result.stdout.index("{") :])["show"][0]["learner_id"]
    assert shown == pseudonym(secret, 746)


def test_a_site_that_is_not_the_demo_stops_without_a_secret(built_demo, tmp_path, monkeypatch):
    # The built demo's file names and settings: dbt reuses the session's parse.
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    source = tmp_path / built_demo.source.name
    shutil.copy(built_demo.source, source)
    with duckdb.connect(str(source)) as connection:
        connection.execute("update public.mdl_course set idnumber = '' where id = 1")
    site = Workspace(
        tmp_path, source, tmp_path / built_demo.warehouse.name, built_demo.ground_truth
    )
    result = site.dbt("show", "--inline", "select {{ pseudonymous_id('1') }} as p", check=False)
    assert result.returncode != 0
    assert "No pseudonym secret: set the environment variable MOODLE_PSEUDONYM_SECRET" in (
        result.stdout
    )
    assert "moodle-pseudonym-secret" in result.stdout


def test_the_first_use_makes_and_keeps_a_private_secret(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    monkeypatch.delenv(pseudonyms.SECRET_FILE_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert pseudonyms.main([]) == 0
    first = capsys.readouterr().out.strip()
    kept = tmp_path / "config" / "moodle-analytics" / "pseudonym_secret"
    assert kept.read_text().strip() == first and len(first) == 64
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert pseudonyms.main([]) == 0
    assert capsys.readouterr().out.strip() == first
    # The variable wins; too short a secret is refused with its origin named.
    monkeypatch.setenv(SECRET_VARIABLE, "short")
    assert pseudonyms.main([]) == 2
    assert "MOODLE_PSEUDONYM_SECRET holds a pseudonym secret of 5 characters" in (
        capsys.readouterr().err
    )


def test_the_demo_marker_names_its_secret_and_nothing_else_does():
    secret = pseudonyms.new_secret()
    assert pseudonyms.secret_from_marker(pseudonyms.demo_marker(secret)) == secret
    for idnumber in (None, "", "moodle-analytics-demo:", "moodle-analytics-demo:" + "g" * 64):
        assert pseudonyms.secret_from_marker(idnumber) is None
    with pytest.raises(pseudonyms.SecretError, match="set MOODLE_PSEUDONYM_SECRET"):
        pseudonyms.build_secret("", environ={})
