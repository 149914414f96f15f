"""The models compared: small, fast, and missing values handled the same way."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from moodle_analytics.risk.settings import MODEL_NAMES


def _imputer() -> SimpleImputer:
    # Unknown values (no quiz yet, no deadline yet) become the median plus a
    # flag saying they were unknown.
    return SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)


def _log_scale(values: np.ndarray) -> np.ndarray:
    # Counts are heavy-tailed; every feature is meant to be >= 0.
    return np.log1p(np.clip(values, 0, None))


def make_model(name: str, seed: int = 42) -> ClassifierMixin:
    """A fresh, unfitted model of the zoo by name."""
    if name == "logistic_regression":
        return Pipeline(
            [
                ("impute", _imputer()),
                ("log", FunctionTransformer(_log_scale)),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=0.5, max_iter=2000)),
            ]
        )
    if name == "decision_tree":
        return Pipeline(
            [
                ("impute", _imputer()),
                (
                    "model",
                    DecisionTreeClassifier(max_depth=5, min_samples_leaf=40, random_state=seed),
                ),
            ]
        )
    if name == "random_forest":
        return Pipeline(
            [
                ("impute", _imputer()),
                (
                    "model",
                    RandomForestClassifier(
                        n_estimators=30,
                        max_depth=8,
                        min_samples_leaf=20,
                        n_jobs=1,
                        random_state=seed,
                    ),
                ),
            ]
        )
    if name == "gradient_boosting":
        # Imputed like the others: a feature with no value at all (no due
        # dates in a Logs-report download) breaks the boosting's binning.
        return Pipeline(
            [
                ("impute", _imputer()),
                (
                    "model",
                    HistGradientBoostingClassifier(
                        max_iter=60,
                        learning_rate=0.15,
                        max_leaf_nodes=15,
                        min_samples_leaf=40,
                        early_stopping=False,
                        random_state=seed,
                    ),
                ),
            ]
        )
    raise ValueError(f"unknown model {name!r}; use any of {', '.join(MODEL_NAMES)}")
