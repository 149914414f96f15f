"""Documentation and key-test checks of the dbt project, read from its artifacts.

Run after `dbt build` and `dbt docs generate` (which writes target/manifest.json
and target/catalog.json):

    python -m moodle_analytics.project_checks --target target

The catalog holds the columns each relation really has, so a column added to a
model's SQL but forgotten in its yml is caught, and so is a yml entry for a
column the model no longer has. The checks:

- every model, seed, source table and exposure has a description;
- every actual column of every model, seed and source table has one;
- every model has a key test: `unique` and `not_null` on one column (an
  enforced not_null or primary_key constraint counts as not_null), or a test
  of a combination of columns being unique; a model that shows rows as
  they come, with no key by design, says why in `meta.without_key_because`;
- every macro has a description and every argument of its signature has one
  (an adapter implementation such as `duckdb__week_number` is covered by the
  documentation of the macro that dispatches to it);
- the log source has a freshness threshold;
- exposures depend on tables only (no views or ephemeral models).

Exit status 1 with the list of findings when any check fails; coverage
percentages are printed either way.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from moodle_analytics import cli_options

DEFAULT_LOG_SOURCES = ("moodle.logstore_standard_log",)

# Adapter prefixes of dispatched implementations (adapter.dispatch looks them up).
ADAPTER_PREFIXES = (
    "default",
    "duckdb",
    "postgres",
    "spark",
    "databricks",
    "snowflake",
    "bigquery",
    "redshift",
    "trino",
    "sqlserver",
    "fabric",
)
_IMPLEMENTATION = re.compile(rf"^(?:{'|'.join(ADAPTER_PREFIXES)})__(?P<dispatcher>\w+)$")
_SIGNATURE = re.compile(r"{%-?\s*(?:macro|test)\s+(?P<name>\w+)\s*\((?P<args>.*?)\)\s*-?%}", re.S)
POSTGRES_NAME_BYTES = 63
_TABLE_MATERIALIZATIONS = {"table", "incremental", "snapshot", "seed"}
_COMBINATION_TESTS = re.compile(r"unique_combination|combination_unique|unique_.*columns")


@dataclass(frozen=True)
class Finding:
    """One thing the project lacks: which check, on which node, and what."""

    check: str
    node: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.node}: {self.detail}"


@dataclass
class Coverage:
    """How many of `total` items pass one check."""

    label: str
    passed: int = 0
    total: int = 0

    def count(self, ok: bool) -> None:
        self.total += 1
        self.passed += int(ok)

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.passed / self.total

    def __str__(self) -> str:
        return f"{self.label:<34} {self.passed:>5} / {self.total:<5} {self.percent:6.1f}%"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def tally(self, label: str) -> Coverage:
        return self.coverage.setdefault(label, Coverage(label))

    def text(self) -> str:
        lines = ["Documentation and test coverage", *(f"  {c}" for c in self.coverage.values())]
        if self.findings:
            lines.append(f"{len(self.findings)} finding(s):")
            lines.extend(f"  {finding}" for finding in sorted(self.findings, key=str))
        else:
            lines.append("All checks pass.")
        return "\n".join(lines)


def load_artifacts(target_dir: Path) -> tuple[dict, dict]:
    """manifest.json and catalog.json of a dbt target directory, with a clear error if absent."""
    artifacts = []
    for name in ("manifest.json", "catalog.json"):
        path = Path(target_dir) / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: run `dbt build` and then `dbt docs generate` first"
            )
        try:
            artifact = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(
                f"{path} is not JSON ({error}): run `dbt docs generate` again"
            ) from None
        if not isinstance(artifact, dict) or "nodes" not in artifact:
            raise ValueError(
                f"{path} is not a dbt artifact (no nodes): run `dbt docs generate` again"
            )
        artifacts.append(artifact)
    return artifacts[0], artifacts[1]


def _described(text: str | None) -> bool:
    return bool(text and text.strip())


def _documented_columns(node: dict) -> dict[str, dict]:
    return {name.lower(): column for name, column in (node.get("columns") or {}).items()}


def _check_columns(
    report: Report, label: str, node_name: str, node: dict, actual: Iterable[str] | None
) -> None:
    """Every actual column described; no description of a column that is not there."""
    documented = _documented_columns(node)
    names = [name.lower() for name in actual] if actual is not None else list(documented)
    coverage = report.tally(label)
    for name in names:
        ok = _described((documented.get(name) or {}).get("description"))
        coverage.count(ok)
        if not ok:
            report.findings.append(Finding("column description", node_name, f"column {name}"))
    if actual is not None:
        for name in sorted(set(documented) - set(names)):
            report.findings.append(
                Finding("stale column", node_name, f"documents {name}, which the relation lacks")
            )


def _key_tested_models(manifest: dict) -> set[str]:
    """Models with unique + not_null on one column, or a combination-unique test."""
    unique: dict[str, set[str]] = {}
    not_null: dict[str, set[str]] = {}
    combined: set[str] = set()
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "test" or "test_metadata" not in node:
            continue
        model = node.get("attached_node") or next(iter(node["depends_on"]["nodes"]), None)
        if model is None:
            continue
        test_name = node["test_metadata"]["name"]
        column = (node.get("column_name") or "").lower()
        if test_name == "unique" and column:
            unique.setdefault(model, set()).add(column)
        elif test_name == "not_null" and column:
            not_null.setdefault(model, set()).add(column)
        elif _COMBINATION_TESTS.search(test_name):
            combined.add(model)
    for unique_id, node in manifest["nodes"].items():
        if node.get("resource_type") != "model":
            continue
        enforced = (node.get("config", {}).get("contract") or {}).get("enforced", False)
        for name, column in (node.get("columns") or {}).items():
            kinds = {constraint.get("type") for constraint in column.get("constraints") or []}
            if kinds & {"primary_key"} or (enforced and "not_null" in kinds):
                not_null.setdefault(unique_id, set()).add(name.lower())
        for constraint in node.get("constraints") or []:
            if constraint.get("type") == "primary_key" and constraint.get("columns"):
                combined.add(unique_id)
    keyed = {model for model, columns in unique.items() if columns & not_null.get(model, set())}
    return keyed | combined


def _macro_arguments(macro_sql: str) -> list[str]:
    """Argument names of a macro's signature, defaults dropped."""
    match = _SIGNATURE.search(macro_sql or "")
    if not match or not match.group("args").strip():
        return []
    names, depth, current, quote = [], 0, "", ""
    for char in match.group("args"):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0 and not quote:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [name.split("=")[0].strip() for name in names if name.strip()]


def _check_macros(report: Report, manifest: dict, project: str) -> None:
    macros = {
        macro["name"]: macro
        for macro in manifest["macros"].values()
        if macro.get("package_name") == project
    }
    described = report.tally("macros described")
    arguments = report.tally("macro arguments described")
    for name, macro in sorted(macros.items()):
        implementation = _IMPLEMENTATION.match(name)
        dispatcher = macros.get(implementation.group("dispatcher")) if implementation else None
        if dispatcher is not None and not _described(macro.get("description")):
            # Documented through the macro that dispatches to it.
            described.count(_described(dispatcher.get("description")))
            continue
        ok = _described(macro.get("description"))
        described.count(ok)
        if not ok:
            report.findings.append(Finding("macro description", name, "no description"))
        documented = {
            argument["name"]: argument.get("description")
            for argument in macro.get("arguments") or []
        }
        for argument in _macro_arguments(macro.get("macro_sql", "")):
            ok = _described(documented.get(argument))
            arguments.count(ok)
            if not ok:
                report.findings.append(
                    Finding("macro argument", name, f"argument {argument} has no description")
                )
        for argument in sorted(set(documented) - set(_macro_arguments(macro["macro_sql"]))):
            report.findings.append(
                Finding("macro argument", name, f"documents {argument}, not in its signature")
            )


def _check_sources(
    report: Report, manifest: dict, catalog: dict, project: str, log_sources: Sequence[str]
) -> None:
    tables = report.tally("source tables described")
    found_logs: set[str] = set()
    for unique_id, source in sorted(manifest["sources"].items()):
        if source.get("package_name") != project:
            continue
        name = f"{source['source_name']}.{source['name']}"
        ok = _described(source.get("description"))
        tables.count(ok)
        if not ok:
            report.findings.append(Finding("source description", name, "no description"))
        actual = catalog.get("sources", {}).get(unique_id)
        # A table a command of the project writes on demand (meta written_by) may be absent.
        if actual is None and not (source.get("meta") or {}).get("written_by"):
            report.findings.append(
                Finding("not in catalog", name, "table not found by dbt docs generate")
            )
        _check_columns(
            report,
            "source columns described",
            name,
            source,
            actual["columns"] if actual else None,
        )
        if name in log_sources:
            found_logs.add(name)
            freshness = source.get("freshness") or {}
            has_threshold = any(
                (freshness.get(level) or {}).get("count") for level in ("warn_after", "error_after")
            )
            if not (has_threshold and source.get("loaded_at_field")):
                report.findings.append(
                    Finding("source freshness", name, "log source without freshness threshold")
                )
    for name in sorted(set(log_sources) - found_logs):
        report.findings.append(Finding("source freshness", name, "log source not declared"))


def check_project(
    manifest: dict,
    catalog: dict,
    *,
    project: str | None = None,
    log_sources: Sequence[str] = DEFAULT_LOG_SOURCES,
) -> Report:
    """Every check over one project's manifest and catalog."""
    project = project or manifest["metadata"]["project_name"]
    report = Report()
    keyed = _key_tested_models(manifest)
    models = report.tally("models described")
    key_tests = report.tally("models with a key test")
    for unique_id, node in sorted(manifest["nodes"].items()):
        kind = node.get("resource_type")
        if node.get("package_name") != project or kind not in ("model", "seed"):
            continue
        name = node["name"]
        materialized = node.get("config", {}).get("materialized")
        actual = catalog.get("nodes", {}).get(unique_id)
        if actual is None and materialized != "ephemeral":
            report.findings.append(
                Finding("not in catalog", name, "not built: run dbt build before docs generate")
            )
        columns = actual["columns"] if actual else None
        if kind == "seed":
            ok = _described(node.get("description"))
            report.tally("seeds described").count(ok)
            if not ok:
                report.findings.append(Finding("seed description", name, "no description"))
            _check_columns(report, "seed columns described", name, node, columns)
            continue
        ok = _described(node.get("description"))
        models.count(ok)
        if not ok:
            report.findings.append(Finding("model description", name, "no description"))
        _check_columns(report, "model columns described", name, node, columns)
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        has_key = unique_id in keyed or _described(meta.get("without_key_because"))
        key_tests.count(has_key)
        if not has_key:
            report.findings.append(
                Finding("key test", name, "no unique + not_null column or combination test")
            )
    _check_macros(report, manifest, project)
    _check_sources(report, manifest, catalog, project, log_sources)
    _check_exposures(report, manifest, project)
    _check_relation_names(report, manifest, project)
    return report


def _check_relation_names(report: Report, manifest: dict, project: str) -> None:
    """Models, seeds and unit tests become relations: PostgreSQL cuts names at 63 bytes."""
    fits = report.tally("names within 63 bytes")
    nodes = [*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values()]
    for node in sorted(nodes, key=lambda n: n["name"]):
        if node.get("package_name") != project or node.get("resource_type") == "test":
            continue
        name = node.get("alias") or node["name"]
        ok = len(name.encode()) <= POSTGRES_NAME_BYTES
        fits.count(ok)
        if not ok:
            report.findings.append(
                Finding(
                    "name length", node["name"], f"{len(name.encode())} bytes, PostgreSQL keeps 63"
                )
            )


def _check_exposures(report: Report, manifest: dict, project: str) -> None:
    described = report.tally("exposures described")
    for exposure in sorted(manifest.get("exposures", {}).values(), key=lambda e: e["name"]):
        if exposure.get("package_name") != project:
            continue
        ok = _described(exposure.get("description"))
        described.count(ok)
        if not ok:
            report.findings.append(
                Finding("exposure description", exposure["name"], "no description")
            )
        for upstream in exposure.get("depends_on", {}).get("nodes", []):
            node = manifest["nodes"].get(upstream)
            if node is None:  # a source: a table
                continue
            materialized = node.get("config", {}).get("materialized")
            if materialized not in _TABLE_MATERIALIZATIONS:
                report.findings.append(
                    Finding(
                        "exposure parent",
                        exposure["name"],
                        f"depends on {node['name']}, a {materialized} (tables only)",
                    )
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli_options.parser(
        "moodle-project-checks",
        "Fail when a model, column, source, seed, macro or exposure of the dbt project lacks "
        "a description, a model lacks a key test, or the log source lacks freshness. Reads "
        "manifest.json and catalog.json: run `dbt build` and `dbt docs generate` first.",
    )
    parser.add_argument("--target", type=Path, default=Path("target"), help="dbt target directory")
    parser.add_argument(
        "--log-source",
        action="append",
        dest="log_sources",
        metavar="SOURCE.TABLE",
        help=f"source table that must have freshness (default: {', '.join(DEFAULT_LOG_SOURCES)})",
    )
    args = parser.parse_args(argv)
    try:
        manifest, catalog = load_artifacts(args.target)
    except (ValueError, OSError) as error:
        return cli_options.fail("moodle-project-checks", error)
    report = check_project(
        manifest, catalog, log_sources=tuple(args.log_sources or DEFAULT_LOG_SOURCES)
    )
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
