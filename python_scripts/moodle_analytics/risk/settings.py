"""Settings of the risk models, from the dbt variables (see dbt_project.yml)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

# Simplest first: on a tie the simpler model wins. The starter score learns
# nothing but its calibration: a model replaces it only by doing better.
MODEL_NAMES = (
    "starter",
    "logistic_regression",
    "decision_tree",
    "random_forest",
    "gradient_boosting",
)


class SettingsError(ValueError):
    """A risk setting that cannot work; the message names the dbt variable."""


@dataclass(frozen=True)
class RiskSettings:
    # Peers in a course week needed for percentiles and course medians (SQL side).
    min_cohort_size: int = 5
    # Labelled history a model needs; with less the starter score is used.
    min_training_learner_courses: int = 100
    min_training_per_class: int = 20
    # A model learns from at most this many learner-courses, the most recently
    # known: fitting cost stays bounded as the site grows.
    max_training_learner_courses: int = 3000
    cv_folds: int = 5
    models: tuple[str, ...] = MODEL_NAMES
    # Refit for past weeks once the labelled history has grown by this share.
    refit_growth: float = 0.2
    high_threshold: float = 0.5
    medium_threshold: float = 0.25
    # Pass mark (share of the maximum) for quiz averages: default_pass_share.
    pass_share: float = 0.5
    random_seed: int = 42
    # Cross-validation fits run side by side on this many cores (0: all).
    fit_jobs: int = 0
    # The starter score's shipped calibration (risk_starter_calibration).
    starter_intercept: float = -0.1956
    starter_slope: float = 3.2094

    def __post_init__(self) -> None:
        checks = [
            (self.min_cohort_size >= 2, "risk_min_cohort_size must be at least 2"),
            (
                self.min_training_learner_courses >= 10,
                "risk_min_training_learner_courses must be at least 10",
            ),
            (self.min_training_per_class >= 2, "risk_min_training_per_class must be at least 2"),
            (
                self.max_training_learner_courses >= self.min_training_learner_courses,
                "risk_max_training_learner_courses must be at least "
                "risk_min_training_learner_courses",
            ),
            (2 <= self.cv_folds <= 20, "risk_cv_folds must be between 2 and 20"),
            (len(self.models) >= 1, "risk_models must name at least one model"),
            (self.refit_growth >= 0, "risk_refit_growth must not be negative"),
            (self.fit_jobs >= 0, "risk_fit_jobs must be 0 (all cores) or more"),
            (
                0 < self.medium_threshold < self.high_threshold <= 1,
                "risk_band_thresholds need 0 < medium < high <= 1",
            ),
            (0 < self.pass_share < 1, "default_pass_share must lie between 0 and 1"),
            (
                math.isfinite(self.starter_intercept)
                and math.isfinite(self.starter_slope)
                and self.starter_slope > 0,
                "risk_starter_calibration needs a finite intercept and a positive slope",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)
        unknown = [name for name in self.models if name not in MODEL_NAMES]
        if unknown:
            raise SettingsError(
                f"risk_models: unknown model {', '.join(unknown)}; "
                f"use any of {', '.join(MODEL_NAMES)}"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> RiskSettings:
        """Settings from the dbt config `risk_settings` (rendered dbt variables)."""
        values = dict(values or {})
        calibration = values.pop("risk_starter_calibration", None)
        if calibration is not None:
            if not isinstance(calibration, Mapping) or not {"intercept", "slope"} <= set(
                calibration
            ):
                raise SettingsError(
                    "risk_starter_calibration must be a mapping with intercept and slope, "
                    f"e.g. {{intercept: -4.8, slope: 9.9}}; got {calibration!r}"
                )
            values["starter_intercept"] = calibration["intercept"]
            values["starter_slope"] = calibration["slope"]
        thresholds = values.pop("risk_band_thresholds", None)
        if thresholds is not None:
            if not isinstance(thresholds, Mapping) or not {"high", "medium"} <= set(thresholds):
                raise SettingsError(
                    "risk_band_thresholds must be a mapping with high and medium, "
                    f"e.g. {{high: 0.5, medium: 0.25}}; got {thresholds!r}"
                )
            values["high_threshold"] = thresholds["high"]
            values["medium_threshold"] = thresholds["medium"]
        known = {field.name: field for field in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingsError(f"unknown risk setting: {', '.join(unknown)}")
        converted: dict[str, Any] = {}
        for name, value in values.items():
            try:
                if name == "models":
                    if isinstance(value, str):
                        raise TypeError
                    converted[name] = tuple(str(item) for item in value)
                elif isinstance(known[name].default, int):
                    converted[name] = int(value)
                else:
                    converted[name] = float(value)
            except (TypeError, ValueError):
                raise SettingsError(f"risk setting {name}: cannot use {value!r}") from None
        return cls(**converted)

    @property
    def band_thresholds(self) -> dict[str, float]:
        return {"high": self.high_threshold, "medium": self.medium_threshold}

    @property
    def parallel_fits(self) -> int:
        return self.fit_jobs or os.cpu_count() or 1
