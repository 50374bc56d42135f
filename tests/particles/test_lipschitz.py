"""LipschitzParticleSampler: behaviour beyond the shared sampler contract."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skflow import LipschitzParticleSampler, NumericalInstabilityError
from skflow.datasets import make_gaussian_mixture, make_student_t_mixture
from skflow.metrics import energy_distance


def _sampler(**params):
    defaults = dict(
        max_iter=40,
        n_critic_steps=3,
        hidden_layer_sizes=(32, 32),
        device="cpu",
        random_state=0,
    )
    return LipschitzParticleSampler(**{**defaults, **params})


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def mixture():
    X, _ = make_gaussian_mixture(300, 2, 3, random_state=0)
    return X


def test_sample_beyond_the_particles_gives_distinct_new_rows(mixture):
    sampler = _sampler(n_particles=100).fit(mixture)
    X_new = sampler.sample(350, random_state=0)
    assert X_new.shape == (350, 2)
    assert len(np.unique(X_new, axis=0)) == 350
    # Never a verbatim training row.
    matches = (X_new[:, None, :] == mixture[None, :, :]).all(axis=2)
    assert not matches.any()


def test_fresh_particles_follow_the_same_flow(mixture):
    # New particles transported by the recorded flow are distributed like the
    # fitted ones: much closer to them than the starting Gaussian is. Over fit
    # seeds 0-3 the ratio below is 0.49 +- 0.012 (0.48-0.51); untransported
    # particles would give about 1. The bound sits 9 spreads above the mean, so
    # it holds across platforms and thread counts, and far below 1.
    sampler = _sampler(n_particles=400, max_iter=150, early_stopping=False)
    sampler.fit(mixture)
    fitted = sampler.particles_
    fresh = sampler.sample(1200, random_state=1)[400:]
    start = sampler._unscale(
        sampler._tensors["model"]["start_mean"].numpy()
        + np.random.RandomState(0).standard_normal((800, 2))
        @ sampler._tensors["model"]["start_cholesky"].numpy().T
    )
    assert energy_distance(fresh, fitted) < 0.6 * energy_distance(start, fitted)


def test_sample_within_the_pool_returns_fitted_particles(mixture):
    sampler = _sampler(n_particles=200).fit(mixture)
    X_new = sampler.sample(150, random_state=0)
    pool = {tuple(row) for row in np.round(sampler.particles_, 10)}
    assert all(tuple(row) in pool for row in np.round(X_new, 10))


def test_auto_particles_exceed_the_rows(mixture):
    sampler = _sampler(max_iter=2).fit(mixture)
    assert sampler.n_particles_ == 1000
    big = np.random.RandomState(0).normal(size=(700, 2))
    assert _sampler(max_iter=2).fit(big).n_particles_ == 1400


def test_as_many_particles_as_rows_warns(mixture):
    with pytest.warns(UserWarning, match="collapse onto the training rows"):
        _sampler(n_particles=300, max_iter=2).fit(mixture)


def test_heavy_tails_with_alpha_give_finite_samples():
    X, _ = make_student_t_mixture(400, 3, df=1.5, random_state=0)
    sampler = _sampler(divergence="alpha", max_iter=100).fit(X)
    X_new = sampler.sample(2000, random_state=0)
    assert np.isfinite(X_new).all()
    assert all(np.isfinite(v).all() for v in sampler.history_.values())
    # The bulk is reproduced: medians within a quarter of the data's IQR.
    iqr = np.subtract(*np.percentile(X, [75, 25], axis=0))
    assert np.all(np.abs(np.median(X_new, 0) - np.median(X, 0)) < 0.25 * iqr)


def test_user_initial_particles(mixture):
    init = np.random.RandomState(0).normal(size=(120, 2))
    sampler = _sampler(init=init, max_iter=5).fit(mixture)
    assert sampler.n_particles_ == 120
    assert sampler.sample(200).shape == (200, 2)


@pytest.mark.parametrize(
    "init, params, match",
    [
        (np.zeros((10, 3)), {}, "shape"),
        (np.full((10, 2), np.nan), {}, "NaN"),
        (np.zeros((10, 2)), {"n_particles": 20}, "n_particles"),
    ],
)
def test_bad_initial_particles(mixture, init, params, match):
    with pytest.raises(ValueError, match=match):
        _sampler(init=init, **params).fit(mixture)


def test_early_stopping_off_runs_to_max_iter_and_warns(mixture):
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        sampler = _sampler(early_stopping=False, tol=0.0, max_iter=15).fit(mixture)
    assert sampler.n_iter_ == 15
    assert sampler.stop_reason_ == "max_iter" and not sampler.converged_


def test_early_stopping_prevents_copying():
    # Small, well-separated data: the flow is stopped before particles sit on
    # the training rows; a held-out sample is as close to them as new rows.
    X, _ = make_gaussian_mixture(200, 4, 3, random_state=1)
    train, holdout = X[:100], X[100:]
    sampler = _sampler(max_iter=2000, step_size=0.2).fit(train)
    assert sampler.stop_reason_ == "early_stopping"
    from skflow.metrics import dcr

    assert dcr(train, sampler.sample(100, random_state=0), holdout) > 0.75


def test_blow_up_raises_with_remedy(mixture):
    sampler = _sampler(
        lipschitz_constant=1e20, step_size=1e20, max_iter=20, early_stopping=False
    )
    with pytest.raises(NumericalInstabilityError, match="lower step_size"):
        sampler.fit(mixture)


@pytest.mark.parametrize(
    "params",
    [
        {"divergence": "hellinger"},
        {"alpha": 1.0},
        {"lipschitz_constant": 0},
        {"n_particles": 1},
        {"hidden_layer_sizes": (0,)},
        {"activation": "gelu"},
        {"dtype": "float16"},
        {"device": "tpu"},
    ],
)
def test_invalid_parameters_raise(mixture, params):
    with pytest.raises(ValueError):
        _sampler(**params).fit(mixture)


def test_float64_matches_float32_in_distribution(mixture):
    a = _sampler(dtype="float32").fit(mixture).sample(500, random_state=0)
    b = _sampler(dtype="float64").fit(mixture).sample(500, random_state=0)
    assert energy_distance(a, b) < 0.25 * energy_distance(a, mixture + 3)


def test_warm_start_needs_the_same_replayed_flow(blobs_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sampler = LipschitzParticleSampler(
            max_iter=3, n_particles=50, hidden_layer_sizes=(8,), random_state=0
        ).fit(blobs_data)
        sampler.set_params(warm_start=True, step_size=0.05)
        with pytest.raises(ValueError, match="step_size"):
            sampler.fit(blobs_data)
        # The refused continuation leaves the fitted flow as it was.
        assert sampler.n_iter_ == 3
        sampler.set_params(step_size=0.1).fit(blobs_data)
        assert sampler.n_iter_ == 6
