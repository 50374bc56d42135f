"""ProximalMFGFlow estimator: fit quality, sampling steps, trajectories, errors."""

import numpy as np
import pytest
from sklearn.base import clone

from skflow import ProximalMFGFlow
from skflow.datasets import make_gaussian_mixture
from skflow.exceptions import NumericalInstabilityError
from skflow.metrics import energy_distance
from skflow.proximal import _flow


def _flow_params(**params):
    defaults = dict(
        max_iter=300,
        hidden_layer_sizes=(32, 32),
        batch_size=256,
        n_steps=6,
        device="cpu",
        random_state=0,
    )
    defaults.update(params)
    return defaults


@pytest.fixture(scope="module")
def mixture():
    # One draw split in two: the generator's random_state also picks the means.
    rows, _ = make_gaussian_mixture(1600, 2, 2, random_state=0)
    rows = np.asarray(rows)
    return rows[:600], rows[600:]


@pytest.fixture(scope="module")
def fitted(mixture):
    return ProximalMFGFlow(**_flow_params(learning_rate=5e-3)).fit(mixture[0])


def test_samples_match_a_two_component_mixture(fitted, mixture):
    X, fresh = mixture
    samples, paths = fitted.sample(1000, random_state=0, return_trajectories=True)
    flow_ed = energy_distance(fresh, samples)
    # paths[0] is the flow's own start: the data's moment-matched Gaussian.
    start_ed = energy_distance(fresh, paths[0])
    train_ed = energy_distance(fresh, X)
    # The training rows' own distance to the fresh rows is the finite-sample
    # floor. Tolerance: the trained flow removes at least half of the Gaussian
    # start's excess over that floor.
    assert train_ed < start_ed
    assert flow_ed - train_ed < 0.5 * (start_ed - train_ed)


def test_sampling_steps_keep_samples_close(fitted, mixture):
    X = mixture[0]
    coarse = fitted.sample(500, random_state=3, n_steps=6)
    fine = fitted.sample(500, random_state=3, n_steps=48)
    # Same noise, 8x more steps: points move by under 10% of the data's spread
    # (median), and the two samples are distributionally close.
    moved = np.linalg.norm(coarse - fine, axis=1)
    assert np.median(moved) < 0.1 * X.std(0).mean()
    assert energy_distance(coarse, fine) < 0.02


def test_trajectories_shape_and_endpoints(fitted):
    X_new = fitted.sample(9, random_state=5)
    again, paths = fitted.sample(9, random_state=5, n_steps=6, return_trajectories=True)
    assert paths.shape == (7, 9, 2)
    np.testing.assert_allclose(paths[-1], X_new)
    np.testing.assert_allclose(again, X_new)
    _, longer = fitted.sample(4, random_state=5, n_steps=11, return_trajectories=True)
    assert longer.shape == (12, 4, 2)


def test_trajectories_are_nearly_straight(fitted):
    _, paths = fitted.sample(300, random_state=0, n_steps=12, return_trajectories=True)
    length = np.linalg.norm(np.diff(paths, axis=0), axis=2).sum(axis=0)
    chord = np.linalg.norm(paths[-1] - paths[0], axis=1)
    moving = chord > 0.05 * chord.max()
    # Path length / end-to-end distance is 1 for a straight path; the kinetic
    # penalty should keep the median within 5% of it.
    assert np.median(length[moving] / chord[moving]) < 1.05


def test_trajectories_fill_constant_columns(mixture):
    X = np.column_stack([mixture[0][:200], np.full(200, -3.25)])
    flow = ProximalMFGFlow(**_flow_params(max_iter=3)).fit(X)
    X_new, paths = flow.sample(5, random_state=0, return_trajectories=True)
    assert paths.shape == (7, 5, 3)
    np.testing.assert_array_equal(paths[:, :, 2], -3.25)
    np.testing.assert_allclose(paths[-1], X_new)


def test_history_keys_and_lengths(fitted):
    expected = {
        "generator_loss",
        "critic_loss",
        "kinetic_energy",
        "terminal_divergence",
        "hj_residual",
    }
    assert set(fitted.history_) == expected
    for values in fitted.history_.values():
        assert len(values) == fitted.n_iter_ == 300
    np.testing.assert_allclose(
        fitted.history_["critic_loss"],
        -np.asarray(fitted.history_["terminal_divergence"]),
    )
    assert all(k >= 0 for k in fitted.history_["kinetic_energy"])


@pytest.mark.parametrize(
    "params",
    [
        dict(parameterization="potential", solver="rk4"),
        dict(divergence="alpha", alpha=3.0, solver="heun"),
        dict(init="normal", kinetic_weight=0.0),
        dict(lipschitz_constant=np.inf),
    ],
)
def test_variants_fit_and_sample(params, mixture):
    flow = ProximalMFGFlow(**_flow_params(max_iter=20, **params)).fit(mixture[0])
    X_new = flow.sample(50, random_state=0, n_steps=3)
    assert X_new.shape == (50, 2) and np.isfinite(X_new).all()
    assert np.isfinite(flow.history_["hj_residual"]).all()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(kinetic_weight=-0.1), "kinetic_weight"),
        (dict(solver="midpoint"), "solver"),
        (dict(lipschitz_constant=0.0), "lipschitz_constant"),
        (dict(lipschitz_constant=-1.0), "lipschitz_constant"),
        (dict(parameterization="score"), "parameterization"),
        (dict(divergence="js"), "divergence"),
        (dict(parameterization="potential", kinetic_weight=0.0), "kinetic_weight > 0"),
        (dict(n_steps=0), "n_steps"),
        (dict(generator="score"), "generator"),
        (dict(n_time_steps=0), "n_time_steps"),
    ],
)
def test_bad_parameters_raise(params, match, mixture):
    with pytest.raises(ValueError, match=match):
        ProximalMFGFlow(**_flow_params(max_iter=2, **params)).fit(mixture[0])


@pytest.mark.parametrize(
    "n_steps, error", [(0, ValueError), (-2, ValueError), (2.5, TypeError)]
)
def test_bad_n_steps_raise(fitted, n_steps, error):
    with pytest.raises(error, match="n_steps"):
        fitted.sample(3, n_steps=n_steps)


def test_non_finite_training_raises_with_remedy(mixture, monkeypatch):
    real = _flow.proximal_flow

    def broken(*args, **kwargs):
        result = real(*args, **kwargs)
        return result._replace(loop=result.loop._replace(non_finite_at=7))

    monkeypatch.setattr(_flow, "proximal_flow", broken)
    with pytest.raises(NumericalInstabilityError, match="iteration 8.*kinetic_weight"):
        ProximalMFGFlow(**_flow_params(max_iter=2)).fit(mixture[0])


@pytest.mark.parametrize(
    "old, new",
    [
        (dict(generator="potential"), dict(parameterization="potential")),
        (dict(start="normal"), dict(init="normal")),
        (dict(n_time_steps=4), dict(n_steps=4)),
    ],
)
def test_old_parameter_spellings_warn_and_still_work(old, new, mixture):
    # Renamed to the names the other samplers use, deprecated for one release.
    (old_name,) = old
    (new_name,) = new
    params = _flow_params(max_iter=5)
    params.pop("n_steps")
    with pytest.warns(FutureWarning, match=f"{old_name}=.*renamed to {new_name}"):
        renamed = ProximalMFGFlow(**params, **old).fit(mixture[0])
    current = ProximalMFGFlow(**params, **new).fit(mixture[0])
    np.testing.assert_array_equal(
        renamed.sample(20, random_state=0), current.sample(20, random_state=0)
    )
    # The old name is still a parameter (clone keeps it) until it is removed.
    assert clone(renamed).get_params()[old_name] == old[old_name]


def test_legacy_file_moves_old_spellings_to_the_new_names():
    from pathlib import Path

    import skflow

    legacy = Path(__file__).parents[1] / "data" / "legacy"
    flow = skflow.load(legacy / "sampler_7_ProximalMFGFlow.skflow")
    params = flow.get_params()
    assert params["parameterization"] == "potential" and params["n_steps"] == 3
    assert params["generator"] == params["start"] == "deprecated"


def test_a_fresh_process_fit_warns_nothing_about_torch_internals():
    # The first forward-mode JVP in a process (the HJB residual diagnostic)
    # makes torch 2.13 warn that torch.jit.script is deprecated, from torch's
    # own decompositions; skflow silences that one warning, nothing else.
    import subprocess
    import sys

    code = (
        "import numpy as np, skflow\n"
        "X = np.random.RandomState(0).normal(size=(64, 2))\n"
        "skflow.ProximalMFGFlow(max_iter=2, random_state=0).fit(X).sample(4)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
