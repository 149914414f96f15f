"""moodle-risk-report: how well the risk scores did, from a built warehouse.

Prints the model chosen and why, the backtest (ROC AUC by course week of the
as-of scores of finished courses against their outcome) and, for the demo
site, the ROC AUC of the scores against the generator's designed dropouts
(a file the models never see), for finished terms and for the running term.
Writes the plot of backtest AUC by week as a PNG.

    moodle-risk-report --warehouse data/moodle_analytics.duckdb \\
        --ground-truth data/demo_ground_truth.csv \\
        --plot artifacts/risk_backtest_auc_by_week.png
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from moodle_analytics import cli_options
from moodle_analytics.pseudonyms import SECRET_VARIABLE, pseudonym
from moodle_analytics.risk.backtest import ALL_COHORTS, plot_auc_by_week
from moodle_analytics.risk.metrics import score_metrics

PROG = "moodle-risk-report"
# The demo's targets (issue 4): week 3 and the middle of the course.
EARLY_WEEK, EARLY_TARGET, MIDPOINT_TARGET = 3, 0.80, 0.90


class ReportError(RuntimeError):
    """The warehouse or the ground truth cannot be read as expected."""


def read_tables(warehouse: Path, schema_prefix: str) -> dict[str, pd.DataFrame]:
    if not Path(warehouse).is_file():
        raise ReportError(f"{warehouse} does not exist: run `dbt build` first")
    tables = {
        "scores": f"{schema_prefix}_ml.fct_learner_risk_scores",
        "comparison": f"{schema_prefix}_ml.rpt_risk_model_comparison",
        "backtest": f"{schema_prefix}_ml.rpt_risk_backtest",
        "courses": f"{schema_prefix}_marts.fct_learner_courses",
    }
    frames = {}
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            for name, table in tables.items():
                frames[name] = connection.execute(f"select * from {table}").df()
    except duckdb.Error as problem:
        raise ReportError(
            f"cannot read the risk tables from {warehouse} ({problem}); "
            "build them with `dbt build -s +fct_learner_risk_scores+`"
        ) from None
    return frames


def read_ground_truth(path: Path) -> pd.DataFrame:
    if not Path(path).is_file():
        raise ReportError(
            f"ground truth {path} does not exist (moodle-demo-data --ground-truth writes it)"
        )
    truth = pd.read_csv(path)
    needed = {
        "user_id",
        "learner_id",
        "course_id",
        "designed_dropout",
        "course_finished",
        "term_index",
    }
    missing = needed - set(truth.columns)
    if missing:
        raise ReportError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
    # The marts' keys: the demo's own pseudonyms, or those of the secret the build was given.
    secret = os.environ.get(SECRET_VARIABLE)
    if secret:
        truth["learner_id"] = [pseudonym(secret, user) for user in truth["user_id"]]
    truth["learner_course_id"] = truth["learner_id"] + "-" + truth["course_id"].astype(str)
    return truth


def midpoint_week(courses: pd.DataFrame) -> int:
    return max(1, math.ceil(float(courses["course_weeks"].median()) / 2))


def auc_by_week(scores: pd.DataFrame, label: str) -> pd.DataFrame:
    """ROC AUC (and counts) of dropout_probability against `label` per course week."""
    rows = []
    for week, part in scores.groupby("course_week_number", sort=True):
        figures = score_metrics(
            part[label].to_numpy(dtype=int), part["dropout_probability"].to_numpy()
        )
        methods = ", ".join(sorted(part["score_method"].unique()))
        rows.append(
            {
                "week": int(week),
                "learner_courses": figures["learner_weeks"],
                "dropouts": figures["dropouts"],
                "roc_auc": figures["roc_auc"],
                "score_method": methods,
            }
        )
    return pd.DataFrame(rows)


def verdict(table: pd.DataFrame, week: int, target: float) -> str:
    row = table[table["week"] == week]
    if row.empty or np.isnan(row["roc_auc"].iloc[0]):
        return f"week {week}: no AUC (no scores or one class only); target >= {target:.2f}"
    auc = float(row["roc_auc"].iloc[0])
    status = "meets" if auc >= target else "BELOW"
    return f"week {week}: ROC AUC {auc:.3f} {status} the target >= {target:.2f}"


def format_table(table: pd.DataFrame) -> str:
    if table.empty:
        return "  (nothing to show)"
    shown = table.copy()
    shown["roc_auc"] = shown["roc_auc"].map(
        lambda value: "   -" if np.isnan(value) else f"{value:.3f}"
    )
    return "\n".join("  " + line for line in shown.to_string(index=False).splitlines())


def ground_truth_section(frames: dict[str, pd.DataFrame], truth: pd.DataFrame) -> list[str]:
    scores = frames["scores"].merge(
        truth[["learner_course_id", "designed_dropout", "course_finished", "term_index"]],
        on="learner_course_id",
        how="inner",
    )
    midpoint = midpoint_week(frames["courses"])
    lines = [
        "",
        "Against the demo's designed dropouts (data the models never see)",
        f"  targets: week {EARLY_WEEK} >= {EARLY_TARGET:.2f}, "
        f"midpoint (week {midpoint}) >= {MIDPOINT_TARGET:.2f}",
    ]
    term = scores["term_index"]
    finished = scores[scores["course_finished"].astype(bool) & (term >= 0)]
    groups = [
        (
            "finished terms: each week scored as the backtest does, "
            "trained only on outcomes known before it",
            finished,
        ),
        ("finished terms, model-scored weeks only", finished[finished["score_method"] == "model"]),
        (
            "running term (scored as of its weeks; the current week as of now)",
            scores[term == term.max()],
        ),
    ]
    for title, part in groups:
        table = auc_by_week(part, "designed_dropout")
        lines += ["", f"{title}:", format_table(table)]
        lines += [
            f"  {verdict(table, EARLY_WEEK, EARLY_TARGET)}",
            f"  {verdict(table, midpoint, MIDPOINT_TARGET)}",
        ]
    return lines


def report(frames: dict[str, pd.DataFrame], truth: pd.DataFrame | None) -> str:
    comparison = frames["comparison"]
    chosen = comparison[comparison["is_chosen"]]
    lines = [
        "Risk model",
        f"  {chosen['choice_reason'].iloc[0] if len(chosen) else 'no comparison rows'}",
    ]
    overall = comparison[comparison["course_week_number"].isna()].sort_values("model_name")
    if len(overall):
        lines += ["", "Cross-validated, all weeks (out-of-fold):"]
        table = overall[
            ["model_name", "roc_auc", "pr_auc", "brier_score", "mean_early_roc_auc", "fit_seconds"]
        ]
        lines += ["  " + line for line in table.round(3).to_string(index=False).splitlines()]
    scores = frames["scores"]
    methods = scores["score_method"].value_counts()
    lines += [
        "",
        "Scores: " + ", ".join(f"{count:,} {method}" for method, count in methods.items()),
    ]
    backtest = frames["backtest"]
    everyone = backtest[backtest["cohort_name"] == ALL_COHORTS]
    lines += ["", "Backtest, all finished cohorts (ROC AUC against the site's own dropout label):"]
    for method, part in everyone.groupby("score_method"):
        pivot = part.set_index("course_week_number")["roc_auc"].round(3)
        lines.append(
            f"  {method}: " + ", ".join(f"w{week} {auc:.3f}" for week, auc in pivot.items())
        )
    if truth is not None:
        lines += ground_truth_section(frames, truth)
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = cli_options.parser(PROG, __doc__.split("\n\n")[0].split(": ", 1)[1])
    cli_options.add_warehouse(parser)
    parser.add_argument(
        "--schema-prefix",
        default="analytics",
        help="the profile's schema (marts are in <prefix>_ml ...)",
    )
    parser.add_argument(
        "--ground-truth",
        type=Path,
        default=None,
        help="demo ground truth CSV (moodle-demo-data writes it)",
    )
    parser.add_argument(
        "--plot", type=Path, default=None, help="write the backtest AUC by week here (PNG)"
    )
    return parser


def read_inputs(
    arguments: argparse.Namespace,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The risk tables and the ground truth, each file checked first."""
    cli_options.input_warehouse(arguments.warehouse)
    if arguments.plot is not None:
        cli_options.output_file(arguments.plot, "--plot")
    frames = read_tables(arguments.warehouse, arguments.schema_prefix)
    if arguments.ground_truth is None:
        return frames, None
    path = cli_options.input_file(arguments.ground_truth, "--ground-truth")
    try:
        return frames, read_ground_truth(path)
    except ValueError as problem:  # pandas' reasons a file is not a CSV it can read
        raise ReportError(f"--ground-truth {path}: {cli_options.one_line(problem)}") from None


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        frames, truth = read_inputs(arguments)
    except (ReportError, cli_options.InputError, OSError) as problem:
        return cli_options.fail(PROG, problem)
    print(report(frames, truth))
    if arguments.plot:
        path = plot_auc_by_week(frames["backtest"], arguments.plot)
        print(f"\nPlot of backtest AUC by week: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
