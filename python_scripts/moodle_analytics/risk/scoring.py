"""Risk scores for every learner-week, each from a model that only knew the past.

A learner-week is scored as of its end (or the as-of moment in the running
week) by a model trained on the learner-courses whose outcome was known
strictly before that moment and before the learner-course's own end: never on
the future, never on its own outcome. A model is fitted once the history is
large enough and refitted whenever it has grown by refit_growth; each row
takes the latest fit its own history allows. Where the history is too small,
or where no model did better than it on the site's own history, the starter
score serves (starter.py), calibrated on that history when it holds enough
learner-courses of each class; the rule-based score only where a cohort is
too small to rank. score_method says which.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from moodle_analytics.risk import rules
from moodle_analytics.risk.features import (
    CONTEXT_COLUMNS,
    FEATURE_COLUMNS,
    ID_COLUMNS,
    LABEL_COLUMNS,
    in_stable_order,
    learner_courses,
    require_columns,
)
from moodle_analytics.risk.metrics import SCORE_METRIC_TYPES, metrics_by_week
from moodle_analytics.risk.model_store import ModelStore
from moodle_analytics.risk.settings import RiskSettings
from moodle_analytics.risk.starter import (
    STARTER_INPUT_COLUMNS,
    StarterCalibration,
    describe,
    fit_calibration,
    shipped_calibration,
    with_starter_columns,
)
from moodle_analytics.risk.validation import (
    FittedRiskModel,
    NotEnoughHistoryError,
    fit_risk_model,
)

STARTER = "starter"

SCORE_COLUMNS = {
    # name: pandas dtype, in the order of _ml__models.yml (which has the SQL types)
    "learner_week_id": "object",
    "learner_course_id": "object",
    "learner_id": "object",
    "course_id": "int64",
    "risk_band": "object",
    "segment": "object",
    "reason_1": "object",
    "reason_2": "object",
    "reason_3": "object",
    "score_method": "object",
    "model_name": "object",
    "course_week_number": "int32",
    "dropout_probability": "float64",
    "starter_score": "float64",
    "rule_based_score": "float64",
    "training_learner_courses": "Int32",
    "is_latest_week": "bool",
    "is_complete_week": "bool",
    "observed_at": "datetime64[us]",
    "model_trained_until_at": "datetime64[us]",
}


@dataclass(frozen=True)
class History:
    """Enough labelled history for a model at some moment, or why not."""

    learner_courses: int
    dropouts: int
    non_dropouts: int
    courses: int

    def shortfall(self, settings: RiskSettings) -> str | None:
        """Why there is too little history (None when there is enough)."""
        needs = []
        if self.learner_courses < settings.min_training_learner_courses:
            needs.append(
                f"{self.learner_courses:,} learner-courses with a known outcome "
                f"(risk_min_training_learner_courses: {settings.min_training_learner_courses})"
            )
        for count, what in ((self.dropouts, "dropouts"), (self.non_dropouts, "non-dropouts")):
            if count < settings.min_training_per_class:
                needs.append(
                    f"{count:,} {what} "
                    f"(risk_min_training_per_class: {settings.min_training_per_class})"
                )
        if self.courses < 2:
            needs.append(f"{self.courses} course(s) (grouped cross-validation needs 2)")
        return "; ".join(needs) if needs else None


def prefix_histories(labelled: pd.DataFrame) -> Callable[[int], History]:
    """The history of the first `size` labelled learner-courses, for any size,
    from cumulative counts: the refit plan asks about hundreds of sizes."""
    dropouts_so_far = np.cumsum(labelled["is_dropout"].astype(bool).to_numpy())
    courses_so_far = np.cumsum(~labelled["course_id"].duplicated().to_numpy())

    def history(size: int) -> History:
        dropouts = int(dropouts_so_far[size - 1]) if size else 0
        return History(
            learner_courses=size,
            dropouts=dropouts,
            non_dropouts=size - dropouts,
            courses=int(courses_so_far[size - 1]) if size else 0,
        )

    return history


def labelled_learner_courses(features: pd.DataFrame) -> pd.DataFrame:
    """Learner-courses whose outcome is known, oldest outcome first."""
    courses = learner_courses(features)
    known = courses[
        courses["is_outcome_known"].fillna(False).astype(bool) & courses["is_dropout"].notna()
    ]
    return known.sort_values(["outcome_known_at", "learner_course_id"], kind="stable").reset_index(
        drop=True
    )


def training_cutoffs(features: pd.DataFrame) -> pd.Series:
    """The moment each row may learn up to: its as-of moment, and never past
    the end of its own learner-course."""
    observed = pd.to_datetime(features["observed_at"])
    own_end = pd.to_datetime(features["outcome_known_at"])
    return observed.where(own_end.isna() | (observed < own_end), own_end)


def plan_refits(pool_sizes: np.ndarray, usable: Callable[[int], bool], growth: float) -> np.ndarray:
    """History sizes at which to fit a model: the first usable size, then each
    that has grown by `growth` since the last fit."""
    fits: list[int] = []
    for size in np.unique(pool_sizes):
        if usable(int(size)) and (not fits or size >= fits[-1] * (1 + growth)):
            fits.append(int(size))
    return np.array(fits, dtype=int)


@dataclass(frozen=True)
class RefitPlan:
    """Which labelled history each row may learn from, and when models are fitted."""

    labelled: pd.DataFrame  # learner-courses with a known outcome, oldest first
    pool_sizes: np.ndarray  # per row: how many of them were known before its cutoff
    fit_sizes: np.ndarray  # history sizes at which a model is fitted
    history_of_prefix: Callable[[int], History]  # see prefix_histories

    def fit_of_row(self) -> np.ndarray:
        """Index into fit_sizes of the latest fit each row may use (-1: none)."""
        return np.searchsorted(self.fit_sizes, self.pool_sizes, side="right") - 1

    def training_rows(self, features: pd.DataFrame, size: int, limit: int) -> pd.DataFrame:
        """Rows of the first `size` known learner-courses, at most the newest `limit`."""
        pool = set(self.labelled["learner_course_id"].iloc[max(0, size - limit) : size])
        return features[features["learner_course_id"].isin(pool)].reset_index(drop=True)

    def history(self, size: int | None = None) -> History:
        """History of the first `size` known learner-courses (default: all
        known before the newest row's cutoff)."""
        if size is None:
            size = int(self.pool_sizes.max()) if len(self.pool_sizes) else 0
        return self.history_of_prefix(size)


def plan(features: pd.DataFrame, settings: RiskSettings) -> RefitPlan:
    labelled = labelled_learner_courses(features)
    known_times = pd.to_datetime(labelled["outcome_known_at"]).to_numpy(dtype="datetime64[us]")
    cutoffs = training_cutoffs(features).to_numpy(dtype="datetime64[us]")
    # Learner-courses known strictly before each row's cutoff: a prefix of `labelled`.
    pool_sizes = np.searchsorted(known_times, cutoffs, side="left")

    history_of_prefix = prefix_histories(labelled)

    def usable(size: int) -> bool:
        return history_of_prefix(size).shortfall(settings) is None

    fit_sizes = plan_refits(pool_sizes, usable, settings.refit_growth)
    return RefitPlan(labelled, pool_sizes, fit_sizes, history_of_prefix)


@dataclass
class ScoringRun:
    scores: pd.DataFrame
    fits: list[FittedRiskModel]
    messages: list[str]


def fitted_risk_model(
    training: pd.DataFrame, settings: RiskSettings, store: ModelStore | None
) -> tuple[FittedRiskModel, bool]:
    """The risk model fitted on these training rows: from the store when an
    earlier build fitted it on the same rows, else fitted now."""
    return (store or ModelStore(None)).get_or_fit(
        "risk_model", training, settings, lambda: fit_risk_model(training, settings)
    )


def fitted_risk_models(
    training_rows: Callable[[int], pd.DataFrame],
    sizes: np.ndarray,
    settings: RiskSettings,
    store: ModelStore | None,
) -> list[tuple[FittedRiskModel, bool] | NotEnoughHistoryError]:
    """fitted_risk_model on training_rows(size) for each history size, or why
    it could not be fitted; a fit's rows are taken when it starts.

    The fits run side by side on risk_fit_jobs threads, each with its own
    cross-validation threads: one fit alone leaves a core idle while it
    refits and measures. Fits are seeded, so the result does not depend on it.
    """

    def fitted_or_why(size: int):
        try:
            return fitted_risk_model(training_rows(size), settings, store)
        except NotEnoughHistoryError as problem:
            return problem

    workers = max(1, min(len(sizes), settings.parallel_fits))
    # One process-wide limit for all threads: limits set and restored per
    # thread would undo each other.
    with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fitted_or_why, sizes))


@dataclass
class ServedScores:
    """Per row: the probability served, how, and from what history."""

    probability: np.ndarray
    method: np.ndarray
    model_name: np.ndarray
    training_size: pd.arrays.IntegerArray
    trained_until: np.ndarray

    @classmethod
    def empty(cls, rows: int) -> ServedScores:
        return cls(
            probability=np.full(rows, np.nan),
            method=np.full(rows, None, dtype=object),
            model_name=np.full(rows, None, dtype=object),
            training_size=pd.array([pd.NA] * rows, dtype="Int32"),
            trained_until=np.full(rows, np.datetime64("NaT"), dtype="datetime64[us]"),
        )

    def take(self, rows: np.ndarray, probability, method: str, name: str, size, until) -> None:
        self.probability[rows] = probability
        self.method[rows] = method
        self.model_name[rows] = name
        self.training_size[rows] = pd.NA if size is None else size
        self.trained_until[rows] = (
            np.datetime64("NaT") if until is None else np.datetime64(until, "us")
        )


def plan_calibrations(refits: RefitPlan, settings: RiskSettings) -> np.ndarray:
    """History sizes at which the starter is calibrated on the site for rows
    before the first model: enough of each class, then each growth step."""

    def usable(size: int) -> bool:
        history = refits.history_of_prefix(size)
        return min(history.dropouts, history.non_dropouts) >= settings.min_training_per_class

    first_fit = refits.fit_sizes[0] if len(refits.fit_sizes) else np.inf
    before_models = refits.pool_sizes[refits.pool_sizes < first_fit]
    return plan_refits(before_models, usable, settings.refit_growth)


def calibrated_starter(
    features: pd.DataFrame, refits: RefitPlan, settings: RiskSettings
) -> tuple[np.ndarray, list[tuple[np.ndarray, StarterCalibration]]]:
    """The starter probability of every row, and the calibrations used with
    their rows. A row takes the calibration fitted on the history its model
    fit used (or, before any model, on the latest calibration size its own
    history allows); without enough history, the shipped calibration."""
    limit = settings.max_training_learner_courses
    fit_of_row = refits.fit_of_row()
    # The history size each row's starter is calibrated on (0: the shipped calibration).
    sizes_before_models = np.concatenate([[0], plan_calibrations(refits, settings)])
    before_models = np.searchsorted(sizes_before_models, refits.pool_sizes, side="right") - 1
    with_model = np.concatenate([[0], refits.fit_sizes])[fit_of_row + 1]
    size_of_row = np.where(fit_of_row >= 0, with_model, sizes_before_models[before_models])
    probability = np.full(len(features), np.nan)
    used = []
    for size in np.unique(size_of_row):
        rows = np.flatnonzero(size_of_row == size)
        calibration = shipped_calibration(settings)
        if size > 0:
            training = refits.training_rows(features, int(size), limit)
            labels = training["is_dropout"].astype(float)
            with contextlib.suppress(ValueError):  # one class only: keep the shipped one
                calibration = dataclasses.replace(
                    fit_calibration(training["starter_raw_score"], labels),
                    learner_courses=training["learner_course_id"].nunique(),
                    trained_until=pd.Timestamp(training["outcome_known_at"].max()),
                )
        probability[rows] = calibration.probability(features["starter_raw_score"].iloc[rows])
        used.append((rows, calibration))
    return probability, used


def served_by_models(
    features: pd.DataFrame,
    refits: RefitPlan,
    settings: RiskSettings,
    store: ModelStore | None,
    served: ServedScores,
) -> tuple[list[FittedRiskModel], list[str]]:
    """Rows whose history allows a model, scored by it unless its comparison
    kept the starter score (served later with the starter's rows)."""
    fits: list[FittedRiskModel] = []
    messages: list[str] = []
    fit_of_row = refits.fit_of_row()
    outcomes = fitted_risk_models(
        lambda size: refits.training_rows(features, size, settings.max_training_learner_courses),
        refits.fit_sizes,
        settings,
        store,
    )
    for number, outcome in enumerate(outcomes):
        rows = np.flatnonzero(fit_of_row == number)
        if isinstance(outcome, NotEnoughHistoryError):
            messages.append(f"no model for {len(rows):,} learner-weeks: {outcome}")
            continue
        fitted, was_stored = outcome
        fits.append(fitted)
        how = "from the model store" if was_stored else f"fitted in {fitted.fit_seconds:.1f} s"
        if fitted.name == STARTER:
            messages.append(
                f"the starter score kept for {len(rows):,} learner-weeks: no model did better "
                f"on {fitted.learner_courses:,} learner-courses ({how})"
            )
            continue
        served.take(
            rows,
            fitted.predict(features.iloc[rows]),
            "model",
            fitted.name,
            fitted.learner_courses,
            fitted.trained_until,
        )
        messages.append(
            f"{fitted.name} trained on {fitted.learner_courses:,} learner-courses "
            f"(outcomes known by {fitted.trained_until:%Y-%m-%d}), {how}, scored "
            f"{len(rows):,} learner-weeks"
        )
    return fits, messages


def served_by_starter_or_rule(
    features: pd.DataFrame,
    refits: RefitPlan,
    settings: RiskSettings,
    served: ServedScores,
    rule_score: pd.Series,
) -> list[str]:
    """The starter score for rows no model scored (calibrated on the site's
    history when it allows), the rule-based score where the starter has
    nothing to compare with (a cohort too small)."""
    messages = []
    starter_probability, calibrations = calibrated_starter(features, refits, settings)
    open_rows = np.isnan(served.probability)
    for rows, calibration in calibrations:
        rows = rows[open_rows[rows] & ~np.isnan(starter_probability[rows])]
        if not len(rows):
            continue
        served.take(
            rows,
            starter_probability[rows],
            STARTER,
            STARTER,
            calibration.learner_courses,
            calibration.trained_until,
        )
        messages.append(f"{describe(calibration)}, for {len(rows):,} learner-weeks")
    by_rule = np.flatnonzero(np.isnan(served.probability))
    if len(by_rule):
        served.take(by_rule, rule_score.to_numpy()[by_rule], "rule_based", "rule_based", None, None)
        messages.append(
            f"rule-based score for {len(by_rule):,} of {len(features):,} learner-weeks "
            f"(cohorts of fewer than {settings.min_cohort_size} learners: "
            "risk_min_cohort_size)"
        )
    if open_rows.any() and not len(refits.fit_sizes):
        shortfall = refits.history().shortfall(settings)
        messages.append(f"no model yet: too little labelled history: {shortfall}")
    return messages


def score_learner_weeks(
    features: pd.DataFrame,
    settings: RiskSettings,
    log: Callable[[str], None] = print,
    store: ModelStore | None = None,
) -> ScoringRun:
    """fct_learner_risk_scores: one row per learner-week of int_risk_features."""
    require_columns(
        features,
        (*ID_COLUMNS, *FEATURE_COLUMNS, *CONTEXT_COLUMNS, *LABEL_COLUMNS, *STARTER_INPUT_COLUMNS),
        "int_risk_features",
    )
    require_columns(features, ("course_weeks", "is_complete_week"), "int_risk_features")
    features = with_starter_columns(in_stable_order(features), settings.min_cohort_size)
    refits = plan(features, settings)
    served = ServedScores.empty(len(features))
    fits, messages = served_by_models(features, refits, settings, store, served)
    rule_score = rules.rule_based_score(features)
    messages += served_by_starter_or_rule(features, refits, settings, served, rule_score)

    scores = features[[*ID_COLUMNS, "course_week_number"]].copy()
    scores["dropout_probability"] = served.probability
    # The shipped calibration for every row: one scale across courses and sites.
    scores["starter_score"] = shipped_calibration(settings).probability(
        features["starter_raw_score"]
    )
    scores["rule_based_score"] = rule_score.to_numpy()
    bands = rules.risk_band(scores["dropout_probability"], settings)
    scores["risk_band"] = bands.to_numpy()
    scores["segment"] = rules.segment(features, bands, settings).to_numpy()
    reason_columns = rules.reasons(features, bands, settings)
    for column in reason_columns.columns:
        scores[column] = reason_columns[column].to_numpy()
    scores["score_method"] = served.method
    scores["model_name"] = served.model_name
    scores["training_learner_courses"] = served.training_size
    latest = features.groupby("learner_course_id")["course_week_number"].transform("max")
    scores["is_latest_week"] = (features["course_week_number"] == latest).to_numpy()
    scores["is_complete_week"] = features["is_complete_week"].astype(bool).to_numpy()
    scores["observed_at"] = pd.to_datetime(features["observed_at"]).to_numpy()
    scores["model_trained_until_at"] = served.trained_until
    for message in messages:
        log(f"risk scores: {message}")
    return ScoringRun(scores=typed(scores, SCORE_COLUMNS), fits=fits, messages=messages)


def typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The columns in order with their output types (missing strings as None)."""
    result = pd.DataFrame(index=frame.index)
    for name, dtype in columns.items():
        # A string dtype stays text in the warehouse even when every value
        # is missing (an all-None object column would come out as integer).
        result[name] = frame[name].astype("string" if dtype == "object" else dtype)
    return result.reset_index(drop=True)


COMPARISON_COLUMNS = {
    "comparison_row_id": "object",
    "model_name": "object",
    "course_week_number": "Int32",
    "learner_weeks": "Int32",
    "dropouts": "Int32",
    **SCORE_METRIC_TYPES,
    "mean_early_roc_auc": "float64",
    "is_chosen": "bool",
    "choice_reason": "object",
    "training_learner_courses": "Int32",
    "cv_folds": "Int32",
    "fit_seconds": "float64",
    "trained_until_at": "datetime64[us]",
}


def current_history(features: pd.DataFrame, settings: RiskSettings) -> tuple[pd.DataFrame, History]:
    """The labelled rows the newest weeks are scored with (the latest planned
    fit), and their history; all history known by the newest week when no
    model can be fitted."""
    refits = plan(features, settings)
    size = int(refits.fit_sizes[-1]) if len(refits.fit_sizes) else None
    history = refits.history(size)
    rows = refits.training_rows(
        features, history.learner_courses, settings.max_training_learner_courses
    )
    return rows, history


def model_comparison_table(
    features: pd.DataFrame,
    settings: RiskSettings,
    log: Callable[[str], None] = print,
    store: ModelStore | None = None,
) -> pd.DataFrame:
    """rpt_risk_model_comparison: each model's cross-validated metrics per course
    week on the labelled history of the model scoring the newest weeks (the
    starter score among them), the rule-based score as a baseline, and which
    was chosen and why (or why no model could be fitted)."""
    require_columns(
        features,
        (*ID_COLUMNS, *FEATURE_COLUMNS, *CONTEXT_COLUMNS, *LABEL_COLUMNS, *STARTER_INPUT_COLUMNS),
        "int_risk_features",
    )
    require_columns(features, ("course_weeks",), "int_risk_features")
    features = with_starter_columns(in_stable_order(features), settings.min_cohort_size)
    rows, history = current_history(features, settings)
    labelled = rows.assign(
        rule_based_score=rules.rule_based_score(rows).to_numpy(),
        is_dropout=rows["is_dropout"].astype(bool),
    )
    baseline = metrics_by_week(labelled, "rule_based_score")
    baseline.insert(0, "model_name", "rule_based")
    shortfall = history.shortfall(settings)
    comparison = None
    if shortfall is None:
        try:
            # The comparison behind the model that scores the newest weeks:
            # fct_learner_risk_scores has usually stored it already.
            fitted, _ = fitted_risk_model(rows, settings, store)
            comparison = fitted.comparison
        except NotEnoughHistoryError as problem:
            shortfall = str(problem)
    if comparison is None:
        table = without_model(labelled, baseline, shortfall, settings)
        log(f"risk model comparison: {table['choice_reason'].iloc[0]}")
    else:
        first, last = comparison.early_weeks
        early = baseline[baseline["course_week_number"].between(first, last)]
        baseline = baseline.assign(
            mean_early_roc_auc=float(early["roc_auc"].mean()) if len(early) else np.nan,
            fit_seconds=0.0,
        )
        models = comparison.metrics.assign(
            fit_seconds=comparison.metrics["model_name"].map(comparison.seconds)
        )
        table = pd.concat([models, baseline], ignore_index=True)
        table["is_chosen"] = table["model_name"] == comparison.chosen
        table["choice_reason"] = comparison.reason
        table["cv_folds"] = min(settings.cv_folds, history.courses)
        log(f"risk model comparison: {comparison.reason}")
    week_text = table["course_week_number"].astype("string").fillna("all")
    table["comparison_row_id"] = table["model_name"] + "-" + week_text
    table["training_learner_courses"] = history.learner_courses
    trained_until = pd.to_datetime(rows["outcome_known_at"]).max() if len(rows) else pd.NaT
    table["trained_until_at"] = trained_until
    return typed(table, COMPARISON_COLUMNS)


def without_model(
    labelled: pd.DataFrame, baseline: pd.DataFrame, shortfall: str | None, settings: RiskSettings
) -> pd.DataFrame:
    """The comparison rows when no model could be fitted: the starter score
    (chosen) and the rule-based score, measured on whatever history there is."""
    known = labelled[labelled["starter_raw_score"].notna()]
    starter = metrics_by_week(
        known.assign(
            starter_probability=shipped_calibration(settings).probability(
                known["starter_raw_score"]
            )
        ),
        "starter_raw_score",
        "starter_probability",
    )
    starter.insert(0, "model_name", STARTER)
    reason = (
        f"No model yet: too little labelled history ({shortfall}). Risk scores use the "
        "starter score (score_method starter), which ranks each learner against the "
        "course's other learners of the same week; the rule-based score only where a "
        "course week has fewer learners than risk_min_cohort_size."
    )
    table = pd.concat([starter, baseline], ignore_index=True)
    return table.assign(
        mean_early_roc_auc=np.nan,
        is_chosen=table["model_name"] == STARTER,
        choice_reason=reason,
        cv_folds=pd.NA,
        fit_seconds=np.nan,
    )


class ChoiceMismatchError(RuntimeError):
    """The comparison chose another model than the one that scored the newest weeks."""


def check_chosen_model(comparison: pd.DataFrame, newest: tuple[str, object] | None) -> None:
    """The model rpt_risk_model_comparison chose must be the one that scored the
    newest weeks in fct_learner_risk_scores: newest is that model's name and
    trained-until moment (None when no week was scored by a model)."""
    chosen = comparison[comparison["is_chosen"].astype(bool)]
    if chosen.empty or chosen["cv_folds"].isna().all():
        return  # no model could be fitted on today's history: nothing to match
    expected = (chosen["model_name"].iloc[0], pd.Timestamp(chosen["trained_until_at"].iloc[0]))
    found = None if newest is None else (newest[0], pd.Timestamp(newest[1]))
    if found != expected:
        raise ChoiceMismatchError(
            f"the comparison chose {expected[0]} trained until {expected[1]}, but the newest "
            f"risk scores come from {found or 'no model'}: fct_learner_risk_scores and "
            "rpt_risk_model_comparison were built from different int_risk_features or "
            "settings; build both again"
        )
