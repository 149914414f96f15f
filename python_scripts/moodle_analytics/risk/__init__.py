"""Dropout risk: as-of features in, calibrated and explained risk scores out.

The dbt Python models in models/marts/ml are thin wrappers around this package:
features (which columns a model may see), zoo (the models compared),
validation (grouped cross-validation, model choice, calibration), rules (the
rule-based score, risk bands, segments and reasons), scoring (as-of scoring of
every learner-week), backtest (evaluation by course week) and report (the
moodle-risk-report command).
"""
