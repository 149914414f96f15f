"""moodle-risk-evaluate: the risk scores against an outcome the school already has.

Reads the school's outcomes file as it is (options name its columns), loads
it into the warehouse (<schema>_outcomes.learner_outcomes), lets dbt join it
to the learners and measure every score by course week (rpt_risk_evaluation,
rpt_risk_calibration), then prints what matched and the figures, and draws
ROC AUC by course week as a PNG. DuckDB warehouses (targets duckdb and
duckdb_pg): the measuring models are dbt Python models.

    moodle-risk-evaluate Course_Grades_Obfuscated.csv --learner-column StudentId \\
        --learner-key full_name --course myCourseName \\
        --grade-column Overall --pass-mark 40 --plot artifacts/risk_evaluation.png
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from moodle_analytics import cli_options
from moodle_analytics.logs_report.build import dbt_executable, project_directory
from moodle_analytics.risk.evaluation import SCORES, plot_evaluation
from moodle_analytics.risk.outcomes import (
    COURSE_KEYS,
    DEFAULT_FAIL_VALUES,
    DEFAULT_PASS_VALUES,
    LEARNER_KEYS,
    OutcomesError,
    OutcomeSpec,
    outcome_rows,
)
from moodle_analytics.risk.settings import RiskSettings
from moodle_analytics.risk.starter import fit_calibration, with_starter_columns

PROG = "moodle-risk-evaluate"

PROJECT = "moodle_analytics"

# The models that join and measure: rebuilt after each load.
SELECTION = ("int_learner_identities", "stg_outcomes__learner_outcomes+")
UNMATCHED_EXAMPLES = 5


class EvaluateError(RuntimeError):
    """The warehouse or the build cannot give the evaluation."""


def load_outcomes(warehouse: Path, schema: str, rows: pd.DataFrame) -> None:
    """The rows as <schema>.learner_outcomes, replacing an earlier load."""
    if not warehouse.is_file():
        raise EvaluateError(f"{warehouse} does not exist: build the project first (make build)")
    loaded = rows.assign(loaded_at=datetime.now(UTC).replace(tzinfo=None))
    try:
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute(f'create schema if not exists "{schema}"')
            connection.register("loaded_rows", loaded)
            connection.execute(
                f'create or replace table "{schema}".learner_outcomes as select * from loaded_rows'
            )
    except duckdb.Error as problem:
        raise EvaluateError(f"cannot write the outcomes into {warehouse}: {problem}") from None


def run_dbt(project: Path, warehouse: Path, source: Path) -> str:
    """Build the models that join and measure; dbt's output (raises on failure)."""
    env = dict(os.environ)
    env.update(
        MOODLE_ANALYTICS_DUCKDB=str(warehouse),
        MOODLE_SOURCE_DUCKDB=str(source),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    env.setdefault("DBT_PROFILES_DIR", str(project))
    command = [dbt_executable(), "build", "--select", *SELECTION]
    print("moodle-risk-evaluate:", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout.splitlines()
        problems = [line for line in output if "ERROR" in line or "Error" in line]
        tail = "\n".join(problems[-10:] or output[-20:])
        raise EvaluateError(f"dbt build failed:\n{tail}")
    return result.stdout


def read_tables(warehouse: Path, source: Path, prefix: str) -> dict[str, pd.DataFrame]:
    """The matches and the figures; the source is attached as dbt attaches it
    (the intermediate views read the Moodle tables)."""
    tables = {
        "matched": f"{prefix}_intermediate.int_learner_outcomes_matched",
        "evaluation": f"{prefix}_ml.rpt_risk_evaluation",
        "calibration": f"{prefix}_ml.rpt_risk_calibration",
    }
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            quoted = str(source).replace("'", "''")
            connection.execute(f"attach '{quoted}' as moodle (read_only)")
            return {
                name: connection.execute(f"select * from {t}").df() for name, t in tables.items()
            }
    except duckdb.Error as problem:
        raise EvaluateError(f"cannot read the evaluation from {warehouse}: {problem}") from None


def match_lines(matched: pd.DataFrame) -> list[str]:
    """What matched, and each reason rows did not, with a few of their keys."""
    usable = matched[matched["match_status"] == "matched"]
    lines = [
        f"{len(matched):,} rows: {len(usable):,} matched to one learner-course each "
        f"({int(usable['is_positive'].sum()):,} with the outcome), "
        f"{len(matched) - len(usable):,} left out"
    ]
    for status, rows in matched[matched["match_status"] != "matched"].groupby("match_status"):
        keys = ", ".join(repr(key) for key in rows["learner_key"].head(UNMATCHED_EXAMPLES))
        more = " ..." if len(rows) > UNMATCHED_EXAMPLES else ""
        lines.append(f"  {status}: {len(rows):,} (learner keys {keys}{more})")
        problems = rows["outcome_problem"].dropna().unique()[:2]
        lines += [f"    {problem}" for problem in problems]
    return lines


def _auc(value: float, low: float | None = None, high: float | None = None) -> str:
    if pd.isna(value):
        return "   -"
    text = f"{value:.3f}"
    if low is not None and not pd.isna(low):
        text += f" [{low:.2f}-{high:.2f}]"
    return text


def _share(value: float) -> str:
    return "  -" if pd.isna(value) else f"{value:.0%}"


SHORT_NAMES = {
    "risk_score": "risk score",
    "starter_score": "starter",
    "rule_based_score": "rule-based",
    "minus_events_so_far": "-events",
    "minus_active_days_so_far": "-active days",
    "days_since_last_activity": "days inactive",
}


def auc_lines(evaluation: pd.DataFrame) -> list[str]:
    """ROC AUC by week of every score; intervals for the non-baselines."""
    by_week = evaluation.pivot(index="course_week_number", columns="score_name")
    table = pd.DataFrame(index=by_week.index.rename("week"))
    table["share"] = by_week[("course_progress_share", "risk_score")].map("{:.0%}".format)
    table["n"] = by_week[("learner_courses", "risk_score")]
    table["positives"] = by_week[("positives", "risk_score")]
    for score in SCORES:
        figures = by_week[[("roc_auc", score.name), ("roc_auc_low", score.name)]]
        highs = by_week[("roc_auc_high", score.name)]
        table[SHORT_NAMES[score.name]] = [
            _auc(auc, None if score.is_baseline else low, high)
            for (auc, low), high in zip(figures.itertuples(index=False), highs, strict=True)
        ]
    samples = int(evaluation["bootstrap_samples"].iloc[0])
    return [
        f"ROC AUC by course week ([bootstrap 95% interval], {samples} samples; "
        "baselines: rule-based score, fewest events so far, fewest active days so far, "
        "most days since the last activity):",
        *("  " + line for line in table.reset_index().to_string(index=False).splitlines()),
    ]


def band_lines(evaluation: pd.DataFrame, name: str) -> list[str]:
    """Bands, Brier score, PR AUC (and the gain over the best baseline) of one score."""
    rows = evaluation[evaluation["score_name"] == name].set_index("course_week_number")
    table = pd.DataFrame(
        {
            "high recall": rows["high_band_recall"].map(_share),
            "high precision": rows["high_band_precision"].map(_share),
            "high+medium recall": rows["high_or_medium_recall"].map(_share),
            "high+medium precision": rows["high_or_medium_precision"].map(_share),
            "Brier": rows["brier_score"].map("{:.3f}".format),
            "PR AUC": rows["pr_auc"].map("{:.3f}".format),
        }
    ).rename_axis("week")
    if not rows["is_baseline"].all():
        gains = rows[["roc_auc_gain", "roc_auc_gain_low", "roc_auc_gain_high"]]
        table["AUC gain [95%]"] = [
            "-" if pd.isna(gain) else f"{gain:+.3f} [{low:+.2f}, {high:+.2f}]"
            for gain, low, high in gains.itertuples(index=False)
        ]
        table["best baseline"] = rows["best_baseline_name"].map(
            lambda best: SHORT_NAMES.get(best, "-")
        )
    return [
        "",
        f"{SHORT_NAMES[name]}: bands, Brier score, PR AUC"
        + (", gain over the week's best baseline:" if not rows["is_baseline"].all() else ":"),
        *("  " + line for line in table.reset_index().to_string(index=False).splitlines()),
    ]


def evaluation_lines(evaluation: pd.DataFrame) -> list[str]:
    """ROC AUC by week for every score; bands, Brier and gains for the probabilities."""
    if evaluation.empty:
        return ["no matched learner-course has a scored week: nothing to measure"]
    lines = auc_lines(evaluation) + band_lines(evaluation, "risk_score")
    methods = evaluation.loc[evaluation["score_name"] == "risk_score", "score_methods"]
    if methods.fillna("").str.contains("model").any():  # else the starter is the risk score
        lines += band_lines(evaluation, "starter_score")
    return lines + band_lines(evaluation, "rule_based_score")


def calibration_lines(calibration: pd.DataFrame, evaluation: pd.DataFrame) -> list[str]:
    """The risk score's calibration table at 40% of the course."""
    rows = calibration[calibration["score_name"] == "risk_score"]
    if rows.empty:
        return []
    shares = evaluation.groupby("course_week_number")["course_progress_share"].mean()
    week = int((shares - 0.4).abs().idxmin())
    cells = rows[rows["course_week_number"] == week][
        ["probability_bin", "learner_courses", "positives", "mean_predicted", "observed_rate"]
    ]
    return [
        "",
        f"risk_score calibration in week {week} ({shares[week]:.0%} of the course):",
        *("  " + line for line in cells.round(3).to_string(index=False).splitlines()),
    ]


def settings_of_build(project: Path) -> RiskSettings:
    """The risk settings the build just used (its manifest), else the defaults."""
    path = Path(os.environ.get("DBT_TARGET_PATH", project / "target")) / "manifest.json"
    path = path if path.is_absolute() else project / path
    node = f"model.{PROJECT}.rpt_risk_evaluation"
    if path.is_file():
        nodes = json.loads(path.read_text()).get("nodes", {})
        if node in nodes:
            return RiskSettings.from_mapping(nodes[node]["config"].get("risk_settings"))
    return RiskSettings()


def fitted_calibration_lines(
    warehouse: Path, prefix: str, matched: pd.DataFrame, settings: RiskSettings
) -> list[str]:
    """The starter calibration fitted on these outcomes (every scored week pooled)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        features = connection.execute(f"select * from {prefix}_intermediate.int_risk_features").df()
    features = with_starter_columns(features, settings.min_cohort_size)
    known = matched[matched["match_status"] == "matched"][["learner_course_id", "is_positive"]]
    rows = features.merge(known, on="learner_course_id", how="inner")
    try:
        calibration = fit_calibration(rows["starter_raw_score"], rows["is_positive"].astype(float))
    except ValueError as problem:
        return ["", f"no starter calibration: {problem}"]
    return [
        "",
        f"starter calibration fitted on {rows['learner_course_id'].nunique():,} learner-courses "
        f"({int(rows['starter_raw_score'].notna().sum()):,} learner-weeks, every week pooled):",
        "  risk_starter_calibration: "
        f"{{intercept: {calibration.intercept:.4f}, slope: {calibration.slope:.4f}}}",
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = cli_options.parser(PROG, __doc__.split("\n\n")[0])
    parser.add_argument("outcomes", type=Path, help="the school's outcomes file (CSV)")
    names = parser.add_argument_group("the file's columns")
    names.add_argument("--learner-column", required=True, help="the column naming the learner")
    names.add_argument(
        "--learner-key",
        choices=LEARNER_KEYS,
        default="full_name",
        help="what the learner column holds (full_name: as a Logs download shows it)",
    )
    names.add_argument("--course-column", help="the column naming the course")
    names.add_argument("--course", help="the one course of a file without a course column")
    names.add_argument("--course-key", choices=COURSE_KEYS, default="short_name")
    names.add_argument("--result-column", help="a pass/fail column")
    names.add_argument(
        "--fail-values",
        default=",".join(DEFAULT_FAIL_VALUES),
        help="comma-separated values of --result-column that mean fail",
    )
    names.add_argument(
        "--pass-values",
        default=",".join(DEFAULT_PASS_VALUES),
        help="comma-separated values of --result-column that mean pass",
    )
    names.add_argument("--grade-column", help="a grade column (below --pass-mark is a fail)")
    names.add_argument("--pass-mark", type=float)
    names.add_argument("--outcome-name", help="the outcome in words (default: from the options)")
    names.add_argument(
        "--only",
        metavar="COLUMN=VALUE",
        help="use only the rows whose COLUMN holds VALUE (the others are reported, not used)",
    )
    names.add_argument("--delimiter", help="the file's delimiter (default: sniffed)")
    where = parser.add_argument_group("the warehouse")
    where.add_argument("--warehouse", type=Path, default=Path("data/moodle_analytics.duckdb"))
    where.add_argument("--source", type=Path, default=Path("data/moodle_source.duckdb"))
    where.add_argument("--schema-prefix", default="analytics", help="the profile's schema")
    where.add_argument("--project-dir", type=Path, default=None, help="the dbt project")
    parser.add_argument("--plot", type=Path, default=None, help="write ROC AUC by week here (PNG)")
    parser.add_argument(
        "--fit-starter-calibration",
        action="store_true",
        help="also print the starter score's calibration fitted on these outcomes",
    )
    return parser


def spec_from(arguments: argparse.Namespace) -> OutcomeSpec:
    def values(text: str) -> tuple[str, ...]:
        return tuple(value.strip() for value in text.split(",") if value.strip())

    only = None
    if arguments.only:
        column, equals, value = arguments.only.partition("=")
        if not equals or not column.strip():
            raise OutcomesError(f"--only needs COLUMN=VALUE, got {arguments.only!r}")
        only = (column.strip(), value)

    return OutcomeSpec(
        learner_column=arguments.learner_column,
        learner_key=arguments.learner_key,
        course_column=arguments.course_column,
        course=arguments.course,
        course_key=arguments.course_key,
        result_column=arguments.result_column,
        fail_values=values(arguments.fail_values),
        pass_values=values(arguments.pass_values),
        grade_column=arguments.grade_column,
        pass_mark=arguments.pass_mark,
        outcome_name=arguments.outcome_name,
        only=only,
    )


def check_paths(arguments: argparse.Namespace) -> None:
    """Every file the command reads or writes, checked before any work (InputError)."""
    cli_options.input_file(arguments.outcomes, "the outcomes file")
    cli_options.input_warehouse(arguments.warehouse)
    cli_options.input_duckdb(arguments.source, "--source", "generate or import a site first")
    if arguments.plot:
        cli_options.output_file(arguments.plot, "--plot")


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    warehouse, source = arguments.warehouse.resolve(), arguments.source.resolve()
    prefix = arguments.schema_prefix
    try:
        check_paths(arguments)
        rows = outcome_rows(arguments.outcomes, spec_from(arguments), arguments.delimiter)
        project = project_directory(arguments.project_dir)
        load_outcomes(warehouse, f"{prefix}_outcomes", rows)
        run_dbt(project, warehouse, source)
        tables = read_tables(warehouse, source, prefix)
    except (OutcomesError, EvaluateError, cli_options.InputError, OSError) as problem:
        return cli_options.fail(PROG, problem)
    evaluation, matched = tables["evaluation"], tables["matched"]
    name = matched["outcome_name"].iloc[0]
    lines = [f"Outcome: {name}, from {arguments.outcomes.name}", *match_lines(matched), ""]
    lines += evaluation_lines(evaluation)
    lines += calibration_lines(tables["calibration"], evaluation)
    if arguments.fit_starter_calibration:
        settings = settings_of_build(project)
        lines += fitted_calibration_lines(warehouse, prefix, matched, settings)
    print("\n".join(lines))
    if arguments.plot and not evaluation.empty:
        path = plot_evaluation(evaluation, arguments.plot, f"Risk scores against: {name}")
        print(f"\nPlot of ROC AUC by week: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
