"""Comparing the rows of two builds of one table, engine-neutral.

Integers, text, booleans and timestamps must be exactly equal; floating-point
numbers equal within a relative tolerance of 1e-9 (absolute 1e-12 near zero):
engines, and one engine reading rows in another order, sum and divide in
different orders.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12


def normalise(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def sort_key(row: tuple) -> tuple:
    # Floats to 9 significant digits, so rounding noise cannot reorder rows.
    return tuple(
        (0, "") if value is None else (1, f"{value:.9g}" if isinstance(value, float) else value)
        for value in row
    )


def comparable(
    columns: list[str], rows: Iterable[tuple], leave_out: Iterable[str] = ()
) -> tuple[list[str], list[tuple]]:
    """Rows normalised and sorted, without the columns left out."""
    leave_out = set(leave_out)
    keep = [index for index, column in enumerate(columns) if column not in leave_out]
    rows = [tuple(normalise(row[index]) for index in keep) for row in rows]
    return [columns[index] for index in keep], sorted(rows, key=sort_key)


def same_value(left, right, relative_tolerance: float = RELATIVE_TOLERANCE) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(left, right, rel_tol=relative_tolerance, abs_tol=ABSOLUTE_TOLERANCE)
    return type(left) is type(right) and left == right


def differences(
    columns: list[str],
    left: list[tuple],
    other_columns: list[str],
    right: list[tuple],
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> list[str]:
    if columns != other_columns:
        return [f"columns differ: {columns} vs {other_columns}"]
    if len(left) != len(right):
        return [f"{len(left)} rows vs {len(right)}"]
    found = []
    for left_row, right_row in zip(left, right, strict=True):
        for column, left_value, right_value in zip(columns, left_row, right_row, strict=True):
            if not same_value(left_value, right_value, relative_tolerance):
                found.append(f"{column}: {left_value!r} vs {right_value!r}")
        if len(found) >= 5:
            break
    return found


# -- which marts a build has ------------------------------------------------------------
@dataclass(frozen=True)
class Mart:
    name: str
    schema: str
    language: str
    unique_id: str


def manifest_of(target_dir: Path) -> dict:
    return json.loads((Path(target_dir) / "manifest.json").read_text())


def marts_of(target_dir: Path) -> dict[str, Mart]:
    """The enabled mart tables of a build, by model name."""
    return {
        node["name"]: Mart(node["alias"], node["schema"], node["language"], unique_id)
        for unique_id, node in manifest_of(target_dir)["nodes"].items()
        if node["resource_type"] == "model"
        and node["fqn"][1] == "marts"
        and node["config"]["enabled"]
        and node["config"]["materialized"] in ("table", "incremental")
    }


def descendants(target_dir: Path, unique_ids: set[str]) -> set[str]:
    child_map = manifest_of(target_dir)["child_map"]
    found, queue = set(unique_ids), list(unique_ids)
    while queue:
        for child in child_map.get(queue.pop(), []):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def differing_by_design(
    reference_target: Path, reference: dict[str, Mart], theirs: dict[str, Mart]
) -> set[str]:
    """Marts computed by Python on one engine and by SQL on the other (the risk
    models and their rule-based stand-ins), and every node built from them."""
    return descendants(
        reference_target,
        {
            mart.unique_id
            for name, mart in reference.items()
            if mart.language != theirs[name].language
        },
    )


def models_not_compiled(target_dir: Path) -> list[str]:
    """Enabled models of a build that dbt did not compile (a build compiles
    each model it runs into target/compiled)."""
    compiled = Path(target_dir) / "compiled"
    models = [
        node
        for node in manifest_of(target_dir)["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["enabled"]
    ]
    assert len(models) > 50
    return sorted(
        node["name"]
        for node in models
        if not (compiled / node["package_name"] / node["original_file_path"]).exists()
    )


Rows = tuple[list[str], list[tuple]]


def duckdb_table_rows(workspace, schema: str, table: str, run_columns: set[str]) -> Rows:
    """A table of a workspace's DuckDB warehouse, comparable (run_columns left out)."""
    with workspace.connect() as connection:
        cursor = connection.execute(f'select * from "{schema}"."{table}"')
        columns = [column[0] for column in cursor.description]
        return comparable(columns, cursor.fetchall(), run_columns)


def compare_builds(
    reference_target: Path,
    other_target: Path,
    reference_rows: Callable[[Mart], Rows],
    other_rows: Callable[[Mart], Rows],
) -> tuple[list[str], dict[str, list[str]]]:
    """Every mart of a reference build against the same mart of another build, but
    those that differ by design: the names compared, and the differences by name."""
    reference = marts_of(reference_target)
    theirs = marts_of(other_target)
    assert set(reference) == set(theirs), "the builds have different marts"
    assert len(reference) >= 10
    by_design = differing_by_design(reference_target, reference, theirs)
    compared, failures = [], {}
    for name, mart in sorted(reference.items()):
        if mart.unique_id in by_design:
            continue
        found = differences(*reference_rows(mart), *other_rows(theirs[name]))
        compared.append(name)
        if found:
            failures[name] = found
    return compared, failures
