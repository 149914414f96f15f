"""The model store: a build that trains on the same rows as an earlier one takes
its fit from the store and scores exactly as a fresh fit would; any change to
the training rows or the settings fits again; a damaged file is fitted again,
not a crash. Cross-validation fits run side by side with the same result."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from moodle_analytics.risk.model_store import ModelStore, fingerprint
from moodle_analytics.risk.scoring import (
    ChoiceMismatchError,
    check_chosen_model,
    model_comparison_table,
    score_learner_weeks,
)
from moodle_analytics.risk.starter import with_starter_columns
from moodle_analytics.risk.validation import compare_models
from risk_site import SMALL, synthetic_features


def quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def site() -> pd.DataFrame:
    return synthetic_features(seed=3)


@pytest.fixture(scope="module")
def fresh(site):
    """Scores fitted with no store at all."""
    return score_learner_weeks(site, SMALL, log=quiet)


def test_a_second_build_takes_every_fit_from_the_store_and_scores_the_same(site, fresh, tmp_path):
    first_store = ModelStore.at(tmp_path)
    first = score_learner_weeks(site, SMALL, log=quiet, store=first_store)
    assert first_store.fitted == len(fresh.fits) > 0 and first_store.reused == 0
    second_store = ModelStore.at(tmp_path)
    messages: list[str] = []
    second = score_learner_weeks(site, SMALL, log=messages.append, store=second_store)
    assert second_store.reused == len(fresh.fits) and second_store.fitted == 0
    assert any("from the model store" in message for message in messages)
    pd.testing.assert_frame_equal(first.scores, fresh.scores, check_exact=True)
    pd.testing.assert_frame_equal(second.scores, fresh.scores, check_exact=True)


def test_the_comparison_reuses_the_fit_of_the_newest_weeks(site, tmp_path):
    store = ModelStore.at(tmp_path)
    run = score_learner_weeks(site, SMALL, log=quiet, store=store)
    fitted_before = store.fitted
    table = model_comparison_table(site, SMALL, log=quiet, store=store)
    assert store.fitted == fitted_before and store.reused == 1
    without_store = model_comparison_table(site, SMALL, log=quiet)
    pd.testing.assert_frame_equal(
        table.drop(columns="fit_seconds"), without_store.drop(columns="fit_seconds")
    )
    newest = run.fits[-1]
    check_chosen_model(table, (newest.name, newest.trained_until))
    other = next(name for name in SMALL.models if name != newest.name)
    with pytest.raises(ChoiceMismatchError, match=f"newest risk scores come from.*{other}"):
        check_chosen_model(table, (other, newest.trained_until))


def test_changed_rows_or_settings_change_the_fingerprint(site):
    rows = site[site["is_outcome_known"]].reset_index(drop=True)
    key = fingerprint("risk_model", rows, SMALL)
    assert fingerprint("risk_model", rows.copy(), SMALL) == key
    changed = rows.copy()
    changed.loc[0, "events_so_far"] += 1
    assert fingerprint("risk_model", changed, SMALL) != key
    assert fingerprint("risk_model", rows.iloc[1:], SMALL) != key
    assert fingerprint("risk_model", rows, dataclasses.replace(SMALL, cv_folds=4)) != key
    # How many cores fit says nothing about what is learned.
    assert fingerprint("risk_model", rows, dataclasses.replace(SMALL, fit_jobs=1)) == key


def test_a_damaged_stored_fit_is_fitted_again(site, fresh, tmp_path):
    score_learner_weeks(site, SMALL, log=quiet, store=ModelStore.at(tmp_path))
    for stored in tmp_path.glob("*.pickle"):
        stored.write_bytes(b"not a pickle")
    store = ModelStore.at(tmp_path)
    again = score_learner_weeks(site, SMALL, log=quiet, store=store)
    assert store.fitted == len(fresh.fits) and store.reused == 0
    pd.testing.assert_frame_equal(again.scores, fresh.scores, check_exact=True)


def test_the_store_keeps_the_most_recently_used_fits(tmp_path):
    store = ModelStore(tmp_path, max_entries=2)
    rows = pd.DataFrame({"value": [1, 2, 3]})
    for value in range(4):
        store.get_or_fit("demo", rows.assign(value=value), SMALL, lambda value=value: value)
    assert len(list(tmp_path.glob("*.pickle"))) == 2
    assert store.get_or_fit("demo", rows.assign(value=3), SMALL, lambda: -1) == (3, True)
    assert store.get_or_fit("demo", rows.assign(value=0), SMALL, lambda: -1) == (-1, False)
    assert not list(tmp_path.glob("*.partial"))


def test_no_directory_means_no_store(tmp_path):
    for empty in (None, "", "  "):
        store = ModelStore.at(empty)
        assert store.directory is None
        assert store.get_or_fit("demo", pd.DataFrame({"a": [1]}), SMALL, lambda: 5) == (5, False)


def test_side_by_side_fits_give_the_same_comparison(site):
    site = with_starter_columns(site, SMALL.min_cohort_size)
    rows = site[site["is_outcome_known"]].reset_index(drop=True)
    one_core = compare_models(rows, dataclasses.replace(SMALL, fit_jobs=1))
    two_cores = compare_models(rows, dataclasses.replace(SMALL, fit_jobs=2))
    assert one_core.chosen == two_cores.chosen
    pd.testing.assert_frame_equal(one_core.metrics, two_cores.metrics, check_exact=True)
    for name, predictions in one_core.out_of_fold.items():
        pd.testing.assert_series_equal(
            pd.Series(predictions), pd.Series(two_cores.out_of_fold[name]), check_exact=True
        )


def test_fits_side_by_side_score_as_fits_one_after_another(site, fresh, tmp_path):
    assert len(fresh.fits) >= 2  # more than one fit to run side by side
    one_at_a_time = score_learner_weeks(site, dataclasses.replace(SMALL, fit_jobs=1), log=quiet)
    store = ModelStore.at(tmp_path)
    side_by_side = score_learner_weeks(
        site, dataclasses.replace(SMALL, fit_jobs=3), log=quiet, store=store
    )
    pd.testing.assert_frame_equal(one_at_a_time.scores, side_by_side.scores, check_exact=True)
    assert store.fitted == len(fresh.fits) == len(list(tmp_path.glob("*.pickle")))
