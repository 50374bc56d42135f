"""EntropicOTGenerator: parameters, fitted attributes, and what the method does."""

import numpy as np
import pytest
import torch

from skflow import EntropicOTGenerator
from skflow._torch_utils import make_streams
from skflow.ot._core import entropic_ot_fit, init_generator, push_forward

FAST = dict(
    max_iter=6,
    n_dual_steps=2,
    hidden_layer_sizes=(8,),
    batch_size=32,
    device="cpu",
    random_state=0,
)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"reg": 0.0}, "reg"),
        ({"reg": -1.0}, "reg"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": -2}, "latent_dim"),
        ({"solver": "lbfgs"}, "solver"),
        ({"n_dual_steps": 0}, "n_dual_steps"),
        ({"batch_size": 1}, "batch_size"),
    ],
)
def test_bad_parameters_raise(blobs_data, params, match):
    with pytest.raises(ValueError, match=match):
        EntropicOTGenerator(**{**FAST, **params}).fit(blobs_data)


def test_bad_hidden_layer_sizes_raise(blobs_data):
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        EntropicOTGenerator(**{**FAST, "hidden_layer_sizes": (0,)}).fit(blobs_data)


def test_fitted_attributes(wine_data):
    model = EntropicOTGenerator(**FAST).fit(wine_data)
    psi = model.dual_potential_
    assert psi.shape == (wine_data.shape[0],)
    assert np.isfinite(psi).all()
    assert abs(psi.mean()) < 1e-5 * max(1.0, np.abs(psi).max())  # gauge: mean 0
    assert model.latent_dim_ == wine_data.shape[1]
    assert model.cost_scale_ > 0
    assert set(model.history_) == {"semi_dual", "generator_loss"}
    assert model.stop_reason_ in {"max_iter", "memorization"}


def test_sinkhorn_solver_has_no_dual(blobs_data):
    model = EntropicOTGenerator(**{**FAST, "solver": "sinkhorn"}).fit(blobs_data)
    assert model.dual_potential_ is None
    assert len(model.history_["semi_dual"]) == model.n_iter_


def test_auto_solver_switches_to_sinkhorn_on_large_tables(blobs_data, monkeypatch):
    from skflow.ot import _generator

    small = EntropicOTGenerator(**FAST).fit(blobs_data)
    assert small.solver_ == "semi-discrete"
    assert small.dual_potential_.shape == (blobs_data.shape[0],)
    monkeypatch.setattr(
        _generator, "AUTO_SEMI_DISCRETE_MAX_ROWS", blobs_data.shape[0] - 1
    )
    large = EntropicOTGenerator(**FAST).fit(blobs_data)
    assert large.solver_ == "sinkhorn" and large.dual_potential_ is None
    # A continuation keeps the solver it started with.
    small.set_params(warm_start=True).fit(blobs_data)
    assert small.solver_ == "semi-discrete"


@pytest.mark.parametrize("latent_dim", [1, 5])
def test_latent_dim_other_than_n_features(wine_data, latent_dim):
    model = EntropicOTGenerator(**{**FAST, "latent_dim": latent_dim}).fit(wine_data)
    assert model.latent_dim_ == latent_dim
    X_new = model.sample(50, random_state=0)
    assert X_new.shape == (50, wine_data.shape[1])
    assert np.isfinite(X_new).all()


def test_generator_starts_at_the_data_gaussian():
    # Before training, g(z) = A z + b with A A^T = cov and b = mean exactly.
    g = torch.Generator().manual_seed(0)
    mean = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    root = torch.tensor(
        [[1.0, 0, 0], [0.5, 2.0, 0], [0.2, -0.3, 0.7]], dtype=torch.float64
    )
    cov = root @ root.t()
    model = init_generator(mean, cov, 3, (8,), g)
    a, b = model.parameters[:2]
    torch.testing.assert_close(a @ a.t(), cov)
    torch.testing.assert_close(b, mean)
    z = torch.randn(10, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(push_forward(model, z), z @ a.t() + b)


def test_rank_deficient_latent_keeps_the_leading_axes():
    g = torch.Generator().manual_seed(0)
    cov = torch.diag(torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64))
    model = init_generator(torch.zeros(3, dtype=torch.float64), cov, 1, (4,), g)
    a = model.parameters[0]
    torch.testing.assert_close(
        a @ a.t(), torch.diag(torch.tensor([4.0, 0, 0], dtype=torch.float64))
    )


def test_debiasing_keeps_the_spread():
    # The biased cost's minimiser is a shrunk copy of the data: trained
    # without debiasing the generated spread falls well below the data's, with
    # it the spread stays within 15% (standard normal data, 2-D, 400 rows); a
    # weight in between keeps a spread in between (about 0.69 / 0.91 / 1.03
    # of the data's over three seeds), and True is exactly the weight 1.
    X = np.random.RandomState(0).normal(size=(400, 2))
    params = dict(
        max_iter=60,
        reg=0.2,
        hidden_layer_sizes=(16,),
        batch_size=128,
        learning_rate=1e-2,
        device="cpu",
        random_state=0,
    )
    # Keyed by name: True and 1.0 are the same dictionary key.
    spread = {}
    for name, debias in [("0", False), ("0.5", 0.5), ("1", 1.0), ("True", True)]:
        model = EntropicOTGenerator(debias=debias, **params).fit(X)
        spread[name] = model.sample(2000, random_state=0).std(0).mean()
        spread[name] /= X.std(0).mean()
    assert spread["0"] < 0.85
    assert spread["0"] + 0.1 < spread["0.5"] < spread["1"] - 0.05
    assert abs(spread["1"] - 1) < 0.15
    assert spread["True"] == spread["1"]


def test_memorization_rule_stops_training(blobs_data):
    # The rule compares the median distance from generated rows to the nearest
    # reference row with a threshold: above every distance it stops at the
    # first check, at zero it never stops.
    data = torch.as_tensor(blobs_data[:50] - blobs_data[:50].mean(0))
    g = torch.Generator().manual_seed(0)
    model = init_generator(data.mean(0), torch.cov(data.t()), 2, (4,), g)
    common = dict(
        streams=make_streams(0, "cpu"),
        max_iter=25,
        n_dual_steps=1,
        n_warmup_dual_steps=1,
        batch_size=16,
        check_every=10,
    )
    stopped = entropic_ot_fit(
        model, data, memorization_reference=(data, torch.tensor(1e9)), **common
    )
    assert (stopped.loop.stop_reason, stopped.loop.n_iter) == ("memorization", 10)
    ran = entropic_ot_fit(
        model, data, memorization_reference=(data, torch.tensor(0.0)), **common
    )
    assert (ran.loop.stop_reason, ran.loop.n_iter) == ("max_iter", 25)
