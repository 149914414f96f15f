"""Grouped cross-validation, model choice and calibration.

Folds split learner-courses by course, so a course is tested in one fold
only, and a fold's training set drops every learner who is in its test set:
no learner and no course is on both sides of a fold.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from moodle_analytics.risk.features import feature_matrix, learner_courses, require_columns
from moodle_analytics.risk.metrics import metrics_by_week
from moodle_analytics.risk.settings import MODEL_NAMES, RiskSettings
from moodle_analytics.risk.starter import MODEL_COLUMNS
from moodle_analytics.risk.zoo import make_model

# Models whose mean early-week ROC AUC is this close to the best count as tied.
TIE_MARGIN = 0.005


class NotEnoughHistoryError(ValueError):
    """Too little labelled history to train and validate a model."""


@dataclass(frozen=True)
class Split:
    train_learner_courses: np.ndarray
    test_learner_courses: np.ndarray


def grouped_folds(courses: pd.DataFrame, n_folds: int, seed: int) -> list[Split]:
    """Folds over learner-courses (columns learner_course_id, learner_id, course_id,
    is_dropout), stratified on the label, grouped by course, learners purged."""
    n_courses = courses["course_id"].nunique()
    n_splits = min(n_folds, n_courses)
    if n_splits < 2:
        raise NotEnoughHistoryError(
            "grouped cross-validation needs at least 2 courses with known outcomes, "
            f"found {n_courses}"
        )
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    labels = courses["is_dropout"].astype(int).to_numpy()
    splits = []
    for train_index, test_index in splitter.split(
        np.zeros(len(courses)), labels, courses["course_id"]
    ):
        test = courses.iloc[test_index]
        train = courses.iloc[train_index]
        train = train[~train["learner_id"].isin(set(test["learner_id"]))]
        splits.append(
            Split(train["learner_course_id"].to_numpy(), test["learner_course_id"].to_numpy())
        )
    return splits


def fold_masks(
    row_learner_courses: np.ndarray, splits: list[Split]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) boolean masks of each split."""
    rows = pd.Series(row_learner_courses)
    return [
        (
            rows.isin(set(split.train_learner_courses)).to_numpy(),
            rows.isin(set(split.test_learner_courses)).to_numpy(),
        )
        for split in splits
    ]


def out_of_fold(
    models: dict[str, ClassifierMixin],
    features: np.ndarray,
    labels: np.ndarray,
    masks: list[tuple[np.ndarray, np.ndarray]],
    jobs: int = 1,
) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Per model: raw out-of-fold probabilities, each row's test fold (NaN / -1
    where a fold could not be trained: its training side held one class only),
    and the seconds its fits took. The fits run on `jobs` threads (the tree and
    boosting code releases the GIL); each is seeded, so the result does not
    depend on `jobs`."""
    trainable = [
        fold
        for fold, (train, test) in enumerate(masks)
        if len(np.unique(labels[train])) >= 2 and test.any()
    ]
    tasks = [(name, fold) for name in models for fold in trainable]

    def fit_fold(task: tuple[str, int]) -> tuple[np.ndarray, float]:
        name, fold = task
        train, test = masks[fold]
        started = time.perf_counter()
        fitted = clone(models[name]).fit(features[train], labels[train])
        return fitted.predict_proba(features[test])[:, 1], time.perf_counter() - started

    with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(fit_fold, tasks))
    predictions = {name: np.full(len(labels), np.nan) for name in models}
    fold_of_row = {name: np.full(len(labels), -1) for name in models}
    seconds = dict.fromkeys(models, 0.0)
    for (name, fold), (predicted, spent) in zip(tasks, results, strict=True):
        test = masks[fold][1]
        predictions[name][test] = predicted
        fold_of_row[name][test] = fold
        seconds[name] += spent
    return {name: (predictions[name], fold_of_row[name], seconds[name]) for name in models}


def fit_calibrator(raw: np.ndarray, labels: np.ndarray) -> IsotonicRegression:
    """Isotonic map from raw model scores to observed dropout rates."""
    known = ~np.isnan(raw)
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    return calibrator.fit(raw[known], labels[known])


def cross_fitted_calibration(
    raw: np.ndarray, labels: np.ndarray, fold_of_row: np.ndarray
) -> np.ndarray:
    """Calibrated out-of-fold probabilities: each fold mapped by a calibrator
    fitted on the other folds' out-of-fold scores, so the Brier score is honest."""
    calibrated = np.full(len(raw), np.nan)
    for fold in np.unique(fold_of_row[fold_of_row >= 0]):
        inside = fold_of_row == fold
        others = (fold_of_row >= 0) & ~inside
        if len(np.unique(labels[others])) < 2:
            continue
        calibrated[inside] = fit_calibrator(raw[others], labels[others]).predict(raw[inside])
    return calibrated


def midpoint_week(rows: pd.DataFrame) -> int:
    """The middle course week of a typical course (median course length / 2)."""
    return max(1, math.ceil(float(rows["course_weeks"].median()) / 2))


@dataclass
class ModelComparison:
    metrics: pd.DataFrame  # model_name x course week (and all weeks)
    chosen: str
    reason: str
    learner_courses: int
    early_weeks: tuple[int, int]
    out_of_fold: dict[str, np.ndarray] = field(repr=False)
    seconds: dict[str, float] = field(default_factory=dict)


def choose_model(early_auc: dict[str, float]) -> str:
    """Best mean early-week ROC AUC; within TIE_MARGIN of it the simplest wins."""
    scored = {name: auc for name, auc in early_auc.items() if not math.isnan(auc)}
    if not scored:
        raise NotEnoughHistoryError("no model could be validated: every fold held one class only")
    best = max(scored.values())
    tied = [name for name in MODEL_NAMES if name in scored and scored[name] >= best - TIE_MARGIN]
    return tied[0]


def choice_reason(
    chosen: str,
    early_auc: dict[str, float],
    early_weeks: tuple[int, int],
    learner_courses: int,
    folds: int,
) -> str:
    others = sorted(
        (name for name in early_auc if name != chosen),
        key=lambda name: -np.nan_to_num(early_auc[name], nan=-1.0),
    )
    against = ", ".join(f"{name} {early_auc[name]:.3f}" for name in others)
    first, last = early_weeks
    text = (
        f"{chosen}: mean ROC AUC {early_auc[chosen]:.3f} over course weeks {first}-{last} "
        f"(where acting early matters), in {folds}-fold cross-validation grouped by course and "
        f"learner on {learner_courses:,} learner-courses with a known outcome"
    )
    if against:
        text += f"; against {against}"
    best = max(value for value in early_auc.values() if not math.isnan(value))
    if early_auc[chosen] < best:
        text += f"; within {TIE_MARGIN} of the best, so the simpler model wins"
    return text + "."


def compare_models(rows: pd.DataFrame, settings: RiskSettings) -> ModelComparison:
    """Cross-validate every model of settings.models on labelled learner-weeks."""
    require_columns(rows, ("course_weeks", "course_week_number"), "the training rows")
    courses = learner_courses(rows)
    splits = grouped_folds(courses, settings.cv_folds, settings.random_seed)
    features = feature_matrix(rows, MODEL_COLUMNS)
    labels = rows["is_dropout"].astype(int).to_numpy()
    masks = fold_masks(rows["learner_course_id"].to_numpy(), splits)
    first, last = 1, midpoint_week(rows)
    tables, predictions, seconds, early_auc = [], {}, {}, {}
    models = {name: make_model(name, settings.random_seed) for name in settings.models}
    fitted = out_of_fold(models, features, labels, masks, settings.parallel_fits)
    for name, (raw, fold_of_row, fit_seconds) in fitted.items():
        seconds[name] = fit_seconds
        calibrated = cross_fitted_calibration(raw, labels, fold_of_row)
        scored = rows.assign(raw_score=raw, probability=calibrated, is_dropout=labels)
        scored = scored[~np.isnan(calibrated)]
        table = metrics_by_week(scored, "raw_score", "probability")
        table.insert(0, "model_name", name)
        tables.append(table)
        predictions[name] = raw
        early = table[table["course_week_number"].between(first, last)]
        early_auc[name] = float(early["roc_auc"].mean()) if len(early) else math.nan
    chosen = choose_model(early_auc)
    metrics = pd.concat(tables, ignore_index=True)
    metrics["mean_early_roc_auc"] = metrics["model_name"].map(early_auc)
    return ModelComparison(
        metrics=metrics,
        chosen=chosen,
        reason=choice_reason(chosen, early_auc, (first, last), len(courses), len(splits)),
        learner_courses=len(courses),
        early_weeks=(first, last),
        out_of_fold=predictions,
        seconds=seconds,
    )


@dataclass
class FittedRiskModel:
    """A model fitted on all labelled rows of a moment, with its calibration."""

    name: str
    reason: str
    estimator: ClassifierMixin
    calibrator: IsotonicRegression
    learner_courses: int
    trained_until: pd.Timestamp
    fit_seconds: float
    comparison: ModelComparison

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """Calibrated dropout probabilities in [0, 1]."""
        if not len(rows):
            return np.empty(0)
        with threadpool_limits(limits=1):
            raw = self.estimator.predict_proba(feature_matrix(rows, MODEL_COLUMNS))[:, 1]
        return np.clip(self.calibrator.predict(raw), 0.0, 1.0)


def fit_risk_model(rows: pd.DataFrame, settings: RiskSettings) -> FittedRiskModel:
    """Compare the models, then fit the chosen one on every row and calibrate it
    on its out-of-fold predictions."""
    started = time.perf_counter()
    comparison = compare_models(rows, settings)
    labels = rows["is_dropout"].astype(int).to_numpy()
    with threadpool_limits(limits=1):
        estimator = make_model(comparison.chosen, settings.random_seed).fit(
            feature_matrix(rows, MODEL_COLUMNS), labels
        )
    calibrator = fit_calibrator(comparison.out_of_fold[comparison.chosen], labels)
    return FittedRiskModel(
        name=comparison.chosen,
        reason=comparison.reason,
        estimator=estimator,
        calibrator=calibrator,
        learner_courses=comparison.learner_courses,
        trained_until=pd.Timestamp(rows["outcome_known_at"].max()),
        fit_seconds=time.perf_counter() - started,
        comparison=comparison,
    )
