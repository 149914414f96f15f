"""History from the snapshots: Moodle overwrites enrolment and account status in place,
the snapshots keep each version, and the history models say when it held.

The built demo took a first snapshot. A copy of it has its Moodle tables changed as
Moodle changes them (a suspension stamped with timemodified, one made without a
stamp, an unenrolment, a new end date, an account suspended, another deleted) and
takes a second snapshot; then, its snapshots dropped, it runs the history models as
a plain `dbt run` does before any snapshot: they build empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from dbt_project import Workspace
from mart_compare import manifest_of
from test_incremental_build import copy_of

HISTORY_MODELS = ("fct_enrolment_status_history", "fct_learner_account_history")
SNAPSHOTS = ("snp_moodle__user_enrolments", "snp_moodle__user_flags")
ENROLMENTS = "analytics_history.fct_enrolment_status_history"
ACCOUNTS = "analytics_history.fct_learner_account_history"


@dataclass
class History:
    workspace: Workspace
    first: pd.DataFrame  # the enrolment history after the built demo's snapshot
    enrolment_history: pd.DataFrame  # after the Moodle changes and a second snapshot
    account_history: pd.DataFrame
    enrolments: dict[str, int]  # what was changed -> user enrolment id
    changed_at: datetime  # the timemodified Moodle stamped on its changes
    new_end: datetime
    snapshot_columns: dict[str, set[str]] = field(default_factory=dict)
    log_before_snapshots: str = ""
    rows_before_snapshots: int = -1

    def enrolment(self, change: str) -> list[dict]:
        """Every version of one changed enrolment, oldest first."""
        history = self.enrolment_history
        rows = history[history.user_enrolment_id == self.enrolments[change]]
        return rows.sort_values("version_number").to_dict("records")

    def account_of(self, change: str) -> list[dict]:
        learner = self.enrolment(change)[0]["learner_id"]
        rows = self.account_history[self.account_history.learner_id == learner]
        return rows.sort_values("version_number").to_dict("records")


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def change_moodle(source, enrolments: dict[str, int], changed_at: int, new_end: int) -> None:
    users = dict(
        source.execute(
            "select id, userid from public.mdl_user_enrolments where id in (?, ?)",
            [enrolments["stamped"], enrolments["unstamped"]],
        ).fetchall()
    )
    enrolment_changes = {
        "stamped": ("status = 1, timemodified = ?", [changed_at]),
        # A change Moodle did not stamp (made in the database by hand).
        "unstamped": ("status = 1", []),
        "ended": ("timeend = ?, timemodified = ?", [new_end, changed_at]),
    }
    for change, (assignments, values) in enrolment_changes.items():
        source.execute(
            f"update public.mdl_user_enrolments set {assignments} where id = ?",
            [*values, enrolments[change]],
        )
    source.execute("delete from public.mdl_user_enrolments where id = ?", [enrolments["removed"]])
    source.execute(
        "update public.mdl_user set suspended = 1, timemodified = ? where id = ?",
        [changed_at, users[enrolments["stamped"]]],
    )
    source.execute(
        "update public.mdl_user set deleted = 1 where id = ?", [users[enrolments["unstamped"]]]
    )


@pytest.fixture(scope="module")
def history(built_demo, tmp_path_factory) -> History:
    # The built demo took the first snapshot.
    workspace = copy_of(built_demo, tmp_path_factory.mktemp("history") / "w", with_warehouse=True)
    first = workspace.frame(f"select * from {ENROLMENTS}")
    # Active enrolments of four different learners to change.
    chosen = first[(first.enrolment_status == "active") & first.is_learner]
    ids = chosen.drop_duplicates("learner_id").user_enrolment_id.head(4).astype(int).tolist()
    enrolments = dict(zip(("stamped", "unstamped", "removed", "ended"), ids, strict=True))
    changed_at = int(time.time())
    new_end = changed_at + 30 * 86400
    with duckdb.connect(str(workspace.source)) as source:
        change_moodle(source, enrolments, changed_at, new_end)
    workspace.dbt("build", "--select", *SNAPSHOTS, *HISTORY_MODELS)
    history = History(
        workspace,
        first,
        workspace.frame(f"select * from {ENROLMENTS}"),
        workspace.frame(f"select * from {ACCOUNTS}"),
        enrolments,
        utc(changed_at),
        utc(new_end),
    )
    for table, column in workspace.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'analytics_snapshots'"
    ):
        history.snapshot_columns.setdefault(table, set()).add(column)
    # Without snapshots (a plain `dbt run` takes none) the history models build empty.
    with duckdb.connect(str(workspace.warehouse)) as connection:
        connection.execute("drop schema analytics_snapshots cascade")
    history.log_before_snapshots = workspace.dbt("run", "--select", *HISTORY_MODELS).stdout
    history.rows_before_snapshots = workspace.query(f"select count(*) from {ENROLMENTS}")[0][0]
    return history


def test_history_models_build_empty_before_the_first_snapshot(history):
    assert history.rows_before_snapshots == 0
    assert "history models stay empty until dbt snapshot" in history.log_before_snapshots


def test_first_snapshot_holds_one_version_per_enrolment_since_moodle_last_changed_it(history):
    first = history.first
    assert len(first) > 1000
    assert (first.version_number == 1).all() and first.valid_to.isna().all()
    # Moodle's timemodified dates every first version: none needed the run's time.
    assert not first.is_valid_from_observed.any()
    assert (first.valid_from <= first.observed_at).all()


def test_a_stamped_suspension_dates_from_moodle_s_change(history):
    old, new = history.enrolment("stamped")
    assert (old["enrolment_status"], new["enrolment_status"]) == ("active", "suspended")
    assert old["valid_to"] == history.changed_at == new["valid_from"]
    assert not new["is_valid_from_observed"] and pd.isna(new["valid_to"])
    assert old["observed_at"] < history.changed_at <= new["observed_at"]


def test_an_unstamped_suspension_dates_from_the_snapshot_that_saw_it(history):
    old, new = history.enrolment("unstamped")
    assert new["enrolment_status"] == "suspended" and new["is_valid_from_observed"]
    assert new["valid_from"] == new["observed_at"] == old["valid_to"]
    assert old["observed_at"] < new["observed_at"]


def test_an_unenrolment_is_a_removed_version(history):
    old, new = history.enrolment("removed")
    assert old["enrolment_status"] == "active"
    assert new["enrolment_status"] == "removed" and new["is_removed"]
    assert new["is_valid_from_observed"] and new["valid_from"] == new["observed_at"]


def test_a_new_end_date_is_a_new_version(history):
    old, new = history.enrolment("ended")
    assert old["ends_at"] != history.new_end == new["ends_at"]
    assert new["enrolment_status"] == "active" and new["valid_from"] == history.changed_at


def test_unchanged_enrolments_keep_one_version(history):
    later = history.enrolment_history[history.enrolment_history.version_number > 1]
    assert sorted(later.user_enrolment_id) == sorted(history.enrolments.values())


def test_account_suspension_and_deletion_are_dated(history):
    old, new = history.account_of("stamped")
    assert (old["account_status"], new["account_status"]) == ("active", "suspended")
    assert new["valid_from"] == history.changed_at == old["valid_to"]
    assert not new["is_valid_from_observed"]
    old, new = history.account_of("unstamped")
    assert (old["account_status"], new["account_status"]) == ("active", "deleted")
    assert new["is_valid_from_observed"] and new["valid_from"] == new["observed_at"]
    # No other account changed.
    assert (history.account_history.version_number > 1).sum() == 2


def test_every_snapshot_and_its_columns_are_described(history):
    manifest = manifest_of(history.workspace.directory / "target")
    snapshots = [n for n in manifest["nodes"].values() if n["resource_type"] == "snapshot"]
    assert sorted(node["name"] for node in snapshots) == sorted(SNAPSHOTS)
    for node in snapshots:
        assert len(node["description"]) > 80, node["name"]
        described = {name for name, column in node["columns"].items() if column["description"]}
        assert described == history.snapshot_columns[node["name"]], node["name"]
