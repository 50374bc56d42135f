"""skflow.utils.estimator_checks: the suite passes where the contract holds and
fails, with the rule and the remedy, where it is broken.

The eight fast samplers run through the suite in ``test_common.py``; here it
runs over the other estimators that sample or transform (the autoencoder, the
tabular encoder, a GenerativePipeline and a ClassConditionalSampler), and over
a small sampler written, as a third party would, with numpy and scikit-learn
only. Each ``_Broken*`` class below breaks one rule of that sampler, and
``test_check_fails_on_a_broken_estimator`` shows the check of that rule
failing on it; ``test_every_check_is_shown_to_fail`` keeps that list complete.
"""

import copy
import numbers
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning, NotFittedError, SkipTestWarning
from sklearn.linear_model import LinearRegression
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from tqdm.auto import tqdm

from skflow import (
    AutoencoderTransformer,
    AutoSampler,
    ClassConditionalSampler,
    TabularEncoder,
    make_generative_pipeline,
)
from skflow._testing import fast_flow
from skflow.auto import GaussianMixtureSampler
from skflow.exceptions import DeviceWarning
from skflow.metrics import energy_distance
from skflow.utils import estimator_checks
from skflow.utils.estimator_checks import (
    check_sampler,
    parametrize_with_checks,
    yield_sampler_checks,
)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # The fast settings stop long before convergence on purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


ESTIMATORS = [
    AutoencoderTransformer(
        n_components=2,
        hidden_layer_sizes=(16,),
        max_iter=5,
        batch_size=32,
        device="cpu",
        random_state=0,
    ),
    TabularEncoder(),
    make_generative_pipeline(TabularEncoder(), fast_flow()),
    ClassConditionalSampler(fast_flow(), random_state=0),
    AutoSampler(
        candidates=[GaussianMixtureSampler(max_components=2), fast_flow()],
        cv=2,
        random_state=0,
    ),
    GaussianMixtureSampler(random_state=0),
]


# scikit-learn's own checks of these run in their own test files.
@parametrize_with_checks(ESTIMATORS, sklearn_checks=False)
def test_skflow_estimators_keep_the_contract(estimator, check):
    check(estimator)


# ------------------------------------------- a sampler written by a third party
def _check_n_samples(n_samples):
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(
        n_samples, numbers.Integral
    ):
        raise TypeError(f"n_samples must be a positive integer, got {n_samples!r}")
    if n_samples <= 0:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples}")
    return int(n_samples)


def _seed_from(random_state):
    """An int seed from ``random_state``; the OS's entropy for None, so that the
    global numpy state is never drawn from."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(check_random_state(random_state).randint(2**31 - 1))


class GaussianSampler(BaseEstimator):
    """A Gaussian fitted to the standardised rows: the smallest sampler that
    keeps the whole contract, using numpy and scikit-learn only.

    Every ``_Broken*`` class below overrides one step of it.
    """

    def __init__(self, shrinkage=0.1, random_state=None):
        self.shrinkage = shrinkage
        self.random_state = random_state

    def fit(self, X, y=None):
        # validate_data records n_features_in_ before later steps can fail:
        # restore the old state then.
        state = dict(self.__dict__)
        try:
            self._fit(X)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise
        return self

    def _fit(self, X):
        columns = list(X.columns) if hasattr(X, "columns") else None
        if columns is not None:
            text = [c for c, d in zip(columns, X.dtypes) if d.kind not in "biuf"]
            if text:
                raise TypeError(
                    f"Columns {text} are not numeric; encode them first, e.g. "
                    "make_generative_pipeline(TabularEncoder(), sampler)."
                )
        rows = self._validate(X)
        center, spread = rows.mean(axis=0), rows.std(axis=0)
        varying = spread > 1e-12 * np.abs(rows).max(axis=0)
        if not varying.any():
            raise ValueError("All columns of X are constant: nothing to learn.")
        scaled = (rows[:, varying] - center[varying]) / spread[varying]
        covariance = np.atleast_2d(np.cov(scaled, rowvar=False, bias=True))
        covariance = (1 - self.shrinkage) * covariance + self.shrinkage * np.eye(
            len(covariance)
        )
        self.center_, self.spread_, self.varying_ = center, spread, varying
        self.cholesky_ = np.linalg.cholesky(covariance)
        self._columns = columns
        self._dtypes = (
            [d if d.kind == "f" else np.dtype(np.float64) for d in X.dtypes]
            if columns is not None
            else None
        )
        self.random_state_ = np.random.RandomState(_seed_from(self.random_state))

    def _validate(self, X):
        try:
            return validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        except ValueError as exc:
            if "convert" in str(exc):
                raise ValueError(f"{exc}; encode text columns first.") from exc
            raise

    def sample(self, n_samples=1, *, random_state=None):
        check_is_fitted(self)
        n_samples = self._check_n_samples(n_samples)
        return self._to_output(self._draw(n_samples, self._rng(random_state)))

    def _check_n_samples(self, n_samples):
        return _check_n_samples(n_samples)

    def _rng(self, random_state):
        if random_state is None:
            return self.random_state_
        return check_random_state(random_state)

    def _draw(self, n_samples, rng):
        noise = rng.standard_normal((n_samples, self.cholesky_.shape[0]))
        rows = np.tile(self.center_, (n_samples, 1))
        rows[:, self.varying_] = (noise @ self.cholesky_.T) * self.spread_[
            self.varying_
        ] + self.center_[self.varying_]
        return rows

    def _to_output(self, rows):
        if self._columns is None:
            return rows
        import pandas as pd

        frame = pd.DataFrame(rows, columns=self._columns)
        return frame.astype(dict(zip(self._columns, self._dtypes)))

    def score(self, X, y=None):
        check_is_fitted(self)
        rows = validate_data(self, X, dtype=np.float64, reset=False)
        generated = self._draw(500, np.random.RandomState(0))

        def scaled(values):
            keep = self.varying_
            return (values[:, keep] - self.center_[keep]) / self.spread_[keep]

        return -energy_distance(scaled(rows), scaled(generated))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "density_estimator"
        tags.target_tags.required = False
        tags.input_tags.allow_nan = False
        return tags


class IterativeGaussianSampler(GaussianSampler):
    """The Gaussian with an iteration budget, a progress bar and warm starts
    (its "iterations" only record a loss), to keep those rules too."""

    def __init__(
        self, shrinkage=0.1, max_iter=3, warm_start=False, verbose=0, random_state=None
    ):
        super().__init__(shrinkage=shrinkage, random_state=random_state)
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def _continues(self):
        return self.warm_start and hasattr(self, "n_iter_")

    def _validate(self, X):
        if self._continues():
            return validate_data(self, X, dtype=np.float64, reset=False)
        return super()._validate(X)

    def _fit(self, X):
        n_before = self.n_iter_ if self._continues() else 0
        history = list(self.history_["loss"]) if n_before else []
        super()._fit(X)
        with tqdm(
            total=self.max_iter, desc=type(self).__name__, disable=not self.verbose
        ) as bar:
            for iteration in range(self.max_iter):
                history.append(1.0 / (n_before + iteration + 1))
                bar.update(1)
        self.n_iter_ = n_before + self.max_iter
        self.history_ = {"loss": history}


class DeviceGaussianSampler(GaussianSampler):
    """The Gaussian with a ``device`` parameter: it computes with numpy, so
    every device but the CPU falls back, with a warning."""

    def __init__(self, shrinkage=0.1, device="cpu", random_state=None):
        super().__init__(shrinkage=shrinkage, random_state=random_state)
        self.device = device

    def _fit(self, X):
        super()._fit(X)
        if self.device not in ("cpu", "auto"):
            self._warn_fallback()
        self.device_ = "cpu"

    def _warn_fallback(self):
        # stacklevel 4: past this method, _fit and fit, to the caller of fit.
        warnings.warn(
            f"device={self.device!r} is not available; falling back to 'cpu'.",
            DeviceWarning,
            stacklevel=4,
        )


# scikit-learn skips its array-API check without SCIPY_ARRAY_API, and says so.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize(
    "estimator",
    [GaussianSampler(), IterativeGaussianSampler(), DeviceGaussianSampler()],
    ids=type,
)
def test_a_third_party_sampler_keeps_the_whole_contract(estimator):
    check_sampler(estimator)  # scikit-learn's checks included


# -------------------------------------------------- samplers breaking one rule
class _BrokenNoFittedCheck(GaussianSampler):
    def sample(self, n_samples=1, *, random_state=None):
        return self._draw(self._check_n_samples(n_samples), self._rng(random_state))


class _BrokenCloneKeepsTheFit(GaussianSampler):
    def __sklearn_clone__(self):
        return copy.deepcopy(self)


class _BrokenDropsAColumn(GaussianSampler):
    def _draw(self, n_samples, rng):
        return super()._draw(n_samples, rng)[:, :-1]


class _BrokenReturnsNaN(GaussianSampler):
    def _draw(self, n_samples, rng):
        rows = super()._draw(n_samples, rng)
        rows[0, 0] = np.nan
        return rows


class _BrokenFloat32(GaussianSampler):
    def _draw(self, n_samples, rng):
        return super()._draw(n_samples, rng).astype(np.float32)


class _BrokenLabelsTooShort(GaussianSampler):
    def sample(self, n_samples=1, *, random_state=None):
        rows = super().sample(n_samples, random_state=random_state)
        return rows, np.zeros(len(rows) - 1, dtype=int)


class _BrokenAcceptsFloats(GaussianSampler):
    def _check_n_samples(self, n_samples):
        if n_samples <= 0:
            raise ValueError(f"n_samples must be positive, got {n_samples}")
        return int(n_samples)


class _BrokenIgnoresRandomState(GaussianSampler):
    def _rng(self, random_state):
        return self.random_state_


class _BrokenFrozenStream(GaussianSampler):
    def _rng(self, random_state):
        if random_state is None:
            return np.random.RandomState(0)
        return check_random_state(random_state)


class _BrokenStreamNotFromTheSeed(GaussianSampler):
    def _fit(self, X):
        super()._fit(X)
        self.random_state_ = np.random.RandomState()  # the OS's entropy


class _BrokenSeedAdvancesTheStream(GaussianSampler):
    def _rng(self, random_state):
        self.random_state_.standard_normal()
        return super()._rng(random_state)


class _BrokenUnseededFit(GaussianSampler):
    def _fit(self, X):
        super()._fit(X)
        self.center_ = self.center_ + 1e-3 * np.random.default_rng().normal()


class _BrokenSeedsFromTheGlobalState(GaussianSampler):
    def _fit(self, X):
        super()._fit(X)
        # sklearn's check_random_state(None) is numpy's global generator.
        seed = check_random_state(self.random_state).randint(2**31 - 1)
        self.random_state_ = np.random.RandomState(seed)


class _BrokenPicklesInFloat32(GaussianSampler):
    def __getstate__(self):
        state = dict(super().__getstate__())
        state["cholesky_"] = state["cholesky_"].astype(np.float32)
        return state


class _BrokenKeepsAGenerator(GaussianSampler):
    def _fit(self, X):
        super()._fit(X)
        self.generator_ = torch.Generator().manual_seed(0)


class _BrokenDrawStateOnSelf(GaussianSampler):
    def _rng(self, random_state):
        self._current_rng = super()._rng(random_state)
        time.sleep(0.01)  # another thread's call replaces it meanwhile
        return self._current_rng


class _BrokenRestartsOnWarmStart(IterativeGaussianSampler):
    def _continues(self):
        return False


class _BrokenForgetsAState(GaussianSampler):
    def fit(self, X, y=None):
        self._fit(X)
        return self


class _BrokenIgnoresTheDevice(DeviceGaussianSampler):
    def _warn_fallback(self):
        pass


class _BrokenWarnsFromInside(DeviceGaussianSampler):
    def _warn_fallback(self):
        warnings.warn("falling back to 'cpu'", DeviceWarning, stacklevel=1)


class _BrokenNeedsARefitOnAnotherDevice(DeviceGaussianSampler):
    def _fit(self, X):
        super()._fit(X)
        self._fitted_device = self.device

    def sample(self, n_samples=1, *, random_state=None):
        if self.device != self._fitted_device:
            raise RuntimeError("refit after changing device")
        return super().sample(n_samples, random_state=random_state)


class _BrokenCentresInPlace(GaussianSampler):
    def fit(self, X, y=None):
        if isinstance(X, np.ndarray) and X.flags.writeable:
            X -= X.mean(axis=0)
        return super().fit(X)


class _BrokenHistoryTooShort(IterativeGaussianSampler):
    def _fit(self, X):
        super()._fit(X)
        self.history_ = {"loss": self.history_["loss"][:-1]}


class _BrokenChattyFit(GaussianSampler):
    def fit(self, X, y=None):
        print("fitting a Gaussian")
        return super().fit(X)


class _BrokenPrintsProgress(IterativeGaussianSampler):
    def _fit(self, X):
        super()._fit(X)
        if self.verbose:
            print(f"{type(self).__name__}: {self.max_iter} iterations")


class _BrokenForgetsTheColumns(GaussianSampler):
    def _to_output(self, rows):
        return rows


class _BrokenJittersEveryColumn(GaussianSampler):
    def _draw(self, n_samples, rng):
        rows = super()._draw(n_samples, rng)
        return rows + 1e-6 * rng.standard_normal(rows.shape)


class _BrokenOneScaleForAll(GaussianSampler):
    def _draw(self, n_samples, rng):
        # Isotropic noise of the overall spread: right for none of the columns.
        scale = self.spread_.mean()
        return self.center_ + scale * rng.standard_normal(
            (n_samples, len(self.center_))
        )


class _BrokenLowerIsBetter(GaussianSampler):
    def score(self, X, y=None):
        return -super().score(X)


class _BrokenScoreAdvancesTheStream(GaussianSampler):
    def score(self, X, y=None):
        self.random_state_.standard_normal()
        return super().score(X)


class _BrokenScoreIgnoresTheWidth(GaussianSampler):
    def score(self, X, y=None):
        rows = check_array(X, dtype=np.float64)
        return -float(np.abs(rows - rows.mean(axis=0)).mean())


class _BrokenAcceptsOneRow(GaussianSampler):
    def _validate(self, X):
        return validate_data(self, X, dtype=np.float64, ensure_min_samples=1)


class _BrokenTextAsValueError(GaussianSampler):
    def _fit(self, X):
        self._columns = None
        rows = self._validate(X)
        super()._fit(rows)


class _BrokenTransformsBeforeFit(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.mean_ = validate_data(self, X).mean(axis=0)
        return self

    def transform(self, X):
        return np.asarray(X) - getattr(self, "mean_", 0.0)


checks = estimator_checks
BROKEN = [
    (checks.check_not_fitted, _BrokenNoFittedCheck(), "sample.* must raise Not"),
    (checks.check_not_fitted, _BrokenTransformsBeforeFit(), "transform.* must raise"),
    (checks.check_clone, _BrokenCloneKeepsTheFit(), "clone must return an unfitted"),
    (checks.check_sample_shape_dtype_finite, _BrokenDropsAColumn(), "shape \\(1, 2\\)"),
    (checks.check_sample_shape_dtype_finite, _BrokenReturnsNaN(), "non-finite"),
    (checks.check_sample_shape_dtype_finite, _BrokenFloat32(), "dtype float32"),
    (checks.check_sample_shape_dtype_finite, _BrokenLabelsTooShort(), "0 items"),
    (
        checks.check_sample_n_samples_validation,
        _BrokenAcceptsFloats(),
        "n_samples=2.5\\) must raise TypeError",
    ),
    (
        checks.check_sample_random_state,
        _BrokenIgnoresRandomState(),
        "different rows on two calls",
    ),
    (
        checks.check_sample_random_state,
        _BrokenFrozenStream(),
        "without random_state returned the same rows",
    ),
    (
        checks.check_sample_random_state,
        _BrokenStreamNotFromTheSeed(),
        "same random_state drew different sequences",
    ),
    (
        checks.check_sample_random_state,
        _BrokenSeedAdvancesTheStream(),
        "advanced the fitted stream",
    ),
    (checks.check_fit_is_deterministic, _BrokenUnseededFit(), "fitted twice"),
    (
        checks.check_no_global_random_state_use,
        _BrokenSeedsFromTheGlobalState(),
        "random_state=None changed the global numpy random state",
    ),
    (
        checks.check_pickle_round_trip,
        _BrokenPicklesInFloat32(),
        "pickle round trip gives a different sample",
    ),
    (
        checks.check_pickled_state_is_device_free,
        _BrokenKeepsAGenerator(),
        "torch.Generator at state\\['generator_'\\]",
    ),
    (
        checks.check_concurrent_sample_calls,
        _BrokenDrawStateOnSelf(),
        "from 4 threads at once returned other rows",
    ),
    (checks.check_warm_start, _BrokenRestartsOnWarmStart(), "ran to n_iter_=3 from"),
    (
        checks.check_failed_fit_keeps_state,
        _BrokenForgetsAState(),
        "raised but changed the attributes",
    ),
    (
        checks.check_device_switch_after_fit,
        _BrokenNeedsARefitOnAnotherDevice(device="auto"),
        "set_params\\(device='cpu'\\) raised RuntimeError",
    ),
    (
        checks.check_unavailable_device_falls_back,
        _BrokenIgnoresTheDevice(),
        "did not warn",
    ),
    (
        checks.check_unavailable_device_falls_back,
        _BrokenWarnsFromInside(),
        "points at .*test_estimator_checks.py, inside a library",
    ),
    (
        checks.check_fit_does_not_mutate_input,
        _BrokenCentresInPlace(),
        "changed the rows it was given",
    ),
    (
        checks.check_history_consistent_with_n_iter,
        _BrokenHistoryTooShort(),
        "has 2 values for n_iter_=3",
    ),
    (checks.check_verbose_zero_is_silent, _BrokenChattyFit(), "printed 'fitting"),
    (
        checks.check_verbose_one_shows_progress,
        _BrokenPrintsProgress(),
        "on stdout",
    ),
    (
        checks.check_dataframe_round_trip,
        _BrokenForgetsTheColumns(),
        "sampled a ndarray",
    ),
    (
        checks.check_constant_column_is_kept,
        _BrokenJittersEveryColumn(),
        "constant column of 7.5",
    ),
    (
        checks.check_raw_feature_scales_are_restored,
        _BrokenOneScaleForAll(),
        "standardise each column",
    ),
    (checks.check_score, _BrokenLowerIsBetter(), "higher must be better"),
    (
        checks.check_score,
        _BrokenScoreAdvancesTheStream(),
        "advanced the sampling stream",
    ),
    (
        checks.check_score_rejects_wrong_n_features,
        _BrokenScoreIgnoresTheWidth(),
        "rows of 4 features .* must raise ValueError",
    ),
    (
        checks.check_fit_rejects_bad_input,
        _BrokenAcceptsOneRow(),
        "one row raised ValueError.* does not mention '1 sample'",
    ),
    (
        checks.check_fit_rejects_non_numeric_dataframe,
        _BrokenTextAsValueError(),
        "must raise TypeError, but raised ValueError",
    ),
]


@pytest.mark.parametrize(
    "check, estimator, message",
    BROKEN,
    ids=[f"{check.__name__}-{type(est).__name__}" for check, est, _ in BROKEN],
)
def test_check_fails_on_a_broken_estimator(check, estimator, message):
    # The suite gives this estimator this check, and the check fails saying
    # why. The parent class passes the whole suite
    # (test_a_third_party_sampler_keeps_the_whole_contract), so the failure
    # comes from the one rule the subclass breaks.
    assert check in list(yield_sampler_checks(estimator))
    with pytest.raises(AssertionError, match=message):
        check(type(estimator).__name__, estimator)


def test_save_load_check_fails_on_a_model_that_loads_a_new_stream(monkeypatch):
    # skflow.load rebuilds only skflow and scikit-learn classes, so the broken
    # estimator is a skflow sampler whose __setstate__ restarts the stream.
    sampler = fast_flow()
    original = type(sampler).__setstate__

    def restart_the_stream(self, state):
        original(self, state)
        self.random_state_ = np.random.RandomState(0)

    monkeypatch.setattr(type(sampler), "__setstate__", restart_the_stream)
    with pytest.raises(AssertionError, match="keep random_state_ in the saved"):
        estimator_checks.check_skflow_save_load_round_trip("Broken", sampler)


def test_every_check_is_shown_to_fail():
    shown = {check.__name__ for check, _, _ in BROKEN}
    shown.add("check_skflow_save_load_round_trip")  # the test above
    public = {
        name
        for name in estimator_checks.__all__
        if name.startswith("check_") and name != "check_sampler"
    }
    assert public == shown
    assert {check.__name__ for check, _ in estimator_checks._CHECKS} == public
    api = (Path(__file__).parents[1] / "doc" / "api.rst").read_text()
    assert all(f"   {name}\n" in api for name in estimator_checks.__all__)


# ------------------------------------------------------------------ the runners
def test_check_sampler_raises_the_first_broken_rule():
    with pytest.raises(AssertionError, match="without random_state returned"):
        check_sampler(_BrokenFrozenStream(), sklearn_checks=False)


def test_check_sampler_skips_expected_failures_with_a_warning():
    with pytest.warns(SkipTestWarning, match="check_sample_random_state.*known"):
        check_sampler(
            _BrokenFrozenStream(),
            sklearn_checks=False,
            expected_failed_checks={"check_sample_random_state": "known"},
        )


def test_which_checks_an_estimator_gets():
    def names(estimator):
        return {check.__name__ for check in yield_sampler_checks(estimator)}

    transformer = names(ESTIMATORS[0])
    assert {
        "check_not_fitted",
        "check_clone",
        "check_fit_is_deterministic",
        "check_pickle_round_trip",
        "check_skflow_save_load_round_trip",
        "check_unavailable_device_falls_back",
    } <= transformer
    assert not {name for name in transformer if name.startswith("check_sample")}
    # A third-party class cannot go through skflow.load; no device, no checks
    # of it.
    plain = names(GaussianSampler())
    assert "check_skflow_save_load_round_trip" not in plain
    assert "check_device_switch_after_fit" not in plain
    assert "check_warm_start" in names(IterativeGaussianSampler())
    # The tabular pipeline takes text columns through its encoder.
    assert "check_fit_rejects_non_numeric_dataframe" not in names(ESTIMATORS[2])
    with pytest.raises(TypeError, match="neither sample nor transform"):
        next(yield_sampler_checks(LinearRegression()))


def test_parametrize_with_checks_includes_sklearn_and_marks_expected_failures():
    mark = parametrize_with_checks(
        [GaussianSampler()],
        expected_failed_checks=lambda estimator: {"check_score": "known"},
    )
    argnames, cases = mark.args
    assert argnames == "estimator, check"
    name_of = mark.kwargs["ids"]
    # pytest.param gives a ParameterSet (itself a tuple: values, marks, id).
    marked = [case for case in cases if hasattr(case, "marks")]
    plain = [case for case in cases if not hasattr(case, "marks")]
    names = [name_of(check) for _, check in plain]
    assert "check_not_fitted" in names  # ours...
    assert "check_estimators_pickle" in names  # ...and scikit-learn's
    assert [name_of(case.values[1]) for case in marked] == ["check_score"]
    assert marked[0].marks[0].kwargs == {"reason": "known", "strict": True}
    assert name_of(GaussianSampler(shrinkage=0.5)) == "GaussianSampler(shrinkage=0.5)"
    with pytest.raises(TypeError, match="instances, not classes"):
        parametrize_with_checks([GaussianSampler])


def test_checks_leave_the_given_estimator_unfitted():
    estimator = ClassConditionalSampler(fast_flow(), random_state=0)
    for check in yield_sampler_checks(estimator):
        if check.__name__ in ("check_clone", "check_failed_fit_keeps_state"):
            check("ClassConditionalSampler", estimator)
    assert not hasattr(estimator, "estimators_")
    with pytest.raises(NotFittedError):
        estimator.sample(2)
