"""SlicedWassersteinFlow: data mode, density mode, parameterisations, errors."""

import warnings

import numpy as np
import pytest
import torch

from skflow import SlicedWassersteinFlow
from skflow.datasets import make_gaussian_mixture
from skflow.metrics import energy_distance


def _flow(**params):
    defaults = dict(
        max_iter=30,
        n_inner_steps=5,
        hidden_layer_sizes=(32, 32),
        batch_size=256,
        n_projections=50,
        device="cpu",
        random_state=0,
    )
    return SlicedWassersteinFlow(**{**defaults, **params})


@pytest.fixture(scope="module")
def mixture():
    X, _ = make_gaussian_mixture(400, 2, 3, cluster_std=0.6, random_state=0)
    return X


@pytest.mark.parametrize("kind", ["generator", "normalizing_flow", "particles"])
def test_fit_moves_the_model_toward_the_data(mixture, kind):
    params = dict(parameterization=kind, n_particles=400)
    short = _flow(max_iter=1, n_inner_steps=1, **params).fit(mixture)
    long = _flow(max_iter=60, **params).fit(mixture)
    assert long.parameterization_ == kind
    before = energy_distance(short.sample(800, random_state=0), mixture)
    after = energy_distance(long.sample(800, random_state=0), mixture)
    assert after < 0.75 * before
    objective = long.history_["objective"]
    assert np.mean(objective[-5:]) < np.mean(objective[:5])


def test_auto_parameterization(mixture):
    assert _flow(max_iter=2).fit(mixture).parameterization_ == "generator"

    def log_prob(x):
        return -0.5 * (x**2).sum(dim=1)

    assert _flow(max_iter=2).fit_density(log_prob, 2).parameterization_ == (
        "normalizing_flow"
    )


def test_particles_beyond_the_pool(mixture):
    flow = _flow(parameterization="particles", n_particles=100, max_iter=5).fit(mixture)
    X_new = flow.sample(250, random_state=0)
    assert X_new.shape == (250, 2)
    assert len(np.unique(X_new, axis=0)) == 250


def test_fit_density_reaches_a_gaussian_target():
    # Target N(b, A^{-1}); 20,000 samples: mean within 0.1 and covariance
    # entries within 0.1 of the closed form (Monte Carlo error is ~0.01).
    A = torch.tensor([[2.0, 0.6], [0.6, 1.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -1.5], dtype=torch.float64)

    def log_prob(x):
        centred = x - b
        return -0.5 * ((centred @ A) * centred).sum(dim=1)

    flow = _flow(dtype="float64", max_iter=60, step_size=0.1, n_inner_steps=10)
    flow.fit_density(log_prob, 2)
    X = flow.sample(20000, random_state=0)
    np.testing.assert_allclose(X.mean(0), b.numpy(), atol=0.1)
    np.testing.assert_allclose(np.cov(X.T), np.linalg.inv(A.numpy()), atol=0.1)
    assert flow.n_features_in_ == 2 and not hasattr(flow, "feature_names_in_")


@pytest.mark.parametrize(
    "log_prob, n_features, error, match",
    [
        ("not callable", 2, TypeError, "callable"),
        (lambda x: x, 2, ValueError, "shape"),
        (lambda x: x.sum(), 2, ValueError, "shape"),
        (lambda x: torch.full((x.shape[0],), float("nan")), 2, ValueError, "NaN"),
        (lambda x: x.detach().numpy().sum(1), 2, ValueError, "returned a ndarray"),
        (lambda x: x[:, 5], 2, ValueError, "failed"),
        (lambda x: -x.pow(2).sum(1), 0, ValueError, "n_features"),
        (lambda x: -x.pow(2).sum(1), 2.5, ValueError, "n_features"),
    ],
)
def test_fit_density_bad_input(log_prob, n_features, error, match):
    with pytest.raises(error, match=match):
        _flow(max_iter=2).fit_density(log_prob, n_features)


def _under_no_grad(x):
    with torch.no_grad():
        return -0.5 * x.pow(2).sum(1)


_WEIGHT = torch.ones(2, requires_grad=True)


@pytest.mark.parametrize(
    "log_prob",
    [
        _under_no_grad,
        lambda x: -0.5 * x.detach().pow(2).sum(1),
        lambda x: torch.from_numpy(-0.5 * (x.detach().numpy() ** 2).sum(1)),
        lambda x: -0.5 * torch.as_tensor(x.numpy() ** 2).sum(1),
        # Differentiable, but in a parameter, not in the points.
        lambda x: (_WEIGHT.sum() * 0).expand(x.shape[0]),
    ],
    ids=["no_grad", "detach", "from_numpy", "numpy", "not_in_input"],
)
def test_fit_density_refuses_a_log_prob_without_gradient(log_prob):
    flow = _flow(max_iter=2)
    with pytest.raises(ValueError, match="returned a tensor without gradient") as info:
        flow.fit_density(log_prob, 2)
    assert "torch.no_grad()" in str(info.value)  # the remedy is named
    assert not hasattr(flow, "n_iter_")


def test_sample_after_fit_density_is_reproducible():
    flow = _flow(max_iter=3).fit_density(lambda x: -0.5 * x.pow(2).sum(1), 3)
    np.testing.assert_array_equal(
        flow.sample(10, random_state=1), flow.sample(10, random_state=1)
    )
    assert flow.sample(10).shape == (10, 3)


def test_fit_density_warns_when_still_descending():
    # Target N(2, I) from N(0, I): the network flows get there in 30 steps and
    # stay; particles at the default learning rate are still crawling (mean
    # about 0.1) and must say so rather than return a wrong posterior quietly.
    from sklearn.exceptions import ConvergenceWarning

    def shifted(x):
        return -0.5 * (x - 2.0).pow(2).sum(1)

    with pytest.warns(ConvergenceWarning, match="still lowering.*max_iter"):
        _flow(parameterization="particles").fit_density(shifted, 2)
    for kind in ("generator", "normalizing_flow"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            flow = _flow(parameterization=kind).fit_density(shifted, 2)
        assert np.allclose(flow.sample(1000, random_state=0).mean(0), 2.0, atol=0.2)


def test_log_prob_infinite_away_from_the_origin_is_named():
    # A bounded support written with -inf: finite at the start, not where the
    # flow goes. The error names fit_density and log_prob, not the step size.
    def bounded(x):
        inside = -0.5 * x.pow(2).sum(1)
        return torch.where(x[:, 0] > -1.5, inside, torch.full_like(inside, -np.inf))

    with pytest.raises(Exception, match=r"fit_density produced.*log_prob") as error:
        _flow(max_iter=10).fit_density(bounded, 2)
    assert error.type.__name__ == "NumericalInstabilityError"


def test_warm_start_does_not_continue_a_density_fit_on_data():
    # A density fit has no data scaling: continuing it on rows would sample
    # them unscaled. warm_start says so; a data fit then continues as usual.
    rows = np.random.RandomState(0).normal(size=(80, 2)) * [1000.0, 0.01]
    flow = _flow(max_iter=2, warm_start=True)
    flow.fit_density(lambda x: -0.5 * x.pow(2).sum(1), 2)
    with pytest.raises(ValueError, match="fit_density.*warm_start=False"):
        flow.fit(rows)
    flow.set_params(warm_start=False).fit(rows)
    flow.set_params(warm_start=True).fit(rows)
    assert flow.n_iter_ == 4
    assert abs(np.log(flow.sample(500, random_state=0).std(0) / rows.std(0))).max() < 1


def test_entropy_weight_spreads_the_model(mixture):
    plain = _flow(max_iter=40).fit(mixture).sample(2000, random_state=0)
    spread = (
        _flow(max_iter=40, entropy_weight=0.5).fit(mixture).sample(2000, random_state=0)
    )
    assert np.linalg.det(np.cov(spread.T)) > np.linalg.det(np.cov(plain.T))


def test_history_has_one_entry_per_step(mixture):
    flow = _flow(max_iter=7).fit(mixture)
    assert flow.n_iter_ == 7
    assert set(flow.history_) == {"objective", "step_distance"}
    assert all(len(v) == 7 for v in flow.history_.values())
