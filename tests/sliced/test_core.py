"""Sliced-Wasserstein JKO core: distances, entropy, flows, by identities."""

import math

import numpy as np
import ot
import pytest
import torch

from skflow._torch_utils import make_streams
from skflow.sliced._core import (
    data_functional,
    init_model,
    knn_neg_entropy,
    push_forward,
    random_directions,
    sliced_jko_flow,
    sliced_wasserstein_squared,
    wasserstein_1d_squared,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("n, m", [(50, 50), (37, 61), (1, 9)])
def test_1d_wasserstein_matches_pot(n, m):
    rng = np.random.RandomState(0)
    u, v = rng.normal(size=n), rng.exponential(size=m)
    expected = ot.wasserstein_1d(u, v, p=2)  # POT returns W_2^2 here
    value = wasserstein_1d_squared(
        torch.from_numpy(u)[:, None], torch.from_numpy(v)[:, None]
    )
    assert float(value[0]) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_sliced_distance_of_a_sample_to_itself_is_zero():
    x = torch.randn(100, 4, generator=_gen(), dtype=torch.float64)
    directions = random_directions(4, 30, _gen(1), x.device, x.dtype)
    assert (
        float(sliced_wasserstein_squared(x, x[torch.randperm(100)], directions)) == 0.0
    )


def test_sliced_equals_exact_in_one_dimension():
    x = torch.randn(80, 1, generator=_gen(), dtype=torch.float64)
    y = torch.rand(120, 1, generator=_gen(1), dtype=torch.float64) * 3
    directions = random_directions(1, 5, _gen(2), x.device, x.dtype)  # all +-1
    exact = ot.wasserstein_1d(x[:, 0].numpy(), y[:, 0].numpy(), p=2)
    assert float(sliced_wasserstein_squared(x, y, directions)) == pytest.approx(
        exact, rel=1e-10
    )


def test_sliced_matches_pot_with_the_same_directions():
    x = torch.randn(200, 5, generator=_gen(), dtype=torch.float64)
    y = torch.randn(150, 5, generator=_gen(1), dtype=torch.float64) + 0.7
    directions = random_directions(5, 40, _gen(2), x.device, x.dtype)
    pot = ot.sliced_wasserstein_distance(
        x.numpy(), y.numpy(), projections=directions.numpy(), p=2
    )
    ours = math.sqrt(float(sliced_wasserstein_squared(x, y, directions)))
    assert ours == pytest.approx(float(pot), rel=1e-8)


def test_translation_scaling_is_one_over_d():
    # SW_2^2(mu, mu + t) = E[(theta . t)^2] = |t|^2 / d for uniform directions.
    d = 6
    x = torch.randn(500, d, generator=_gen(), dtype=torch.float64)
    shift = torch.zeros(d, dtype=torch.float64)
    shift[0] = 2.0
    directions = random_directions(d, 20000, _gen(1), x.device, x.dtype)
    value = float(sliced_wasserstein_squared(x, x + shift, directions))
    assert value == pytest.approx(4.0 / d, rel=0.03)


def test_knn_entropy_scales_with_log_det():
    x = torch.randn(300, 3, generator=_gen(), dtype=torch.float64)
    assert float(knn_neg_entropy(2.0 * x)) == pytest.approx(
        float(knn_neg_entropy(x)) - 3 * math.log(2.0), rel=1e-10
    )


def _perturbed_flow(d=3, seed=0):
    generator = _gen(seed)
    model = init_model(
        "normalizing_flow",
        d,
        hidden_layer_sizes=(8,),
        n_layers=3,
        mean=torch.zeros(d, dtype=torch.float64),
        cholesky=torch.eye(d, dtype=torch.float64),
        generator=generator,
    )
    parameters = [
        p + 0.3 * torch.randn(p.shape, generator=generator, dtype=p.dtype)
        for p in model.parameters
    ]
    return model._replace(parameters=parameters)


def test_flow_log_det_matches_the_jacobian():
    model = _perturbed_flow()
    z = torch.randn(5, 3, generator=_gen(3), dtype=torch.float64)
    _, log_det = push_forward(model, z, with_log_det=True)
    for row in range(5):
        jacobian = torch.autograd.functional.jacobian(
            lambda v: push_forward(model, v[None])[0][0], z[row]
        )
        expected = torch.linalg.slogdet(jacobian).logabsdet
        assert float(log_det[row]) == pytest.approx(float(expected), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("kind", ["generator", "normalizing_flow", "particles"])
def test_initial_model_is_the_given_gaussian(kind):
    mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
    cholesky = torch.tensor([[2.0, 0.0], [0.5, 0.3]], dtype=torch.float64)
    model = init_model(
        kind,
        2,
        hidden_layer_sizes=(8,),
        n_layers=2,
        mean=mean,
        cholesky=cholesky,
        generator=_gen(),
        n_particles=20000,
    )
    if kind == "particles":
        x = model.parameters[0]
    else:
        x, _ = push_forward(
            model, torch.randn(20000, 2, generator=_gen(1), dtype=torch.float64)
        )
    torch.testing.assert_close(x.mean(0), mean, atol=0.05, rtol=0)
    torch.testing.assert_close(torch.cov(x.T), cholesky @ cholesky.T, atol=0.08, rtol=0)


@pytest.mark.parametrize("kind", ["generator", "normalizing_flow", "particles"])
def test_one_jko_step_does_not_increase_f(kind):
    # Gaussian pair: model N(0, I), data N(m, I). Evaluate F with many
    # directions and rows before and after one step.
    generator = _gen(0)
    data = torch.randn(
        2000, 2, generator=generator, dtype=torch.float64
    ) + torch.tensor([2.0, -1.0], dtype=torch.float64)
    model = init_model(
        kind,
        2,
        hidden_layer_sizes=(16,),
        n_layers=2,
        mean=torch.zeros(2, dtype=torch.float64),
        cholesky=torch.eye(2, dtype=torch.float64),
        generator=generator,
        n_particles=1000,
    )
    functional = data_functional(data, n_projections=50, batch_size=512)
    result = sliced_jko_flow(
        model,
        functional,
        streams=make_streams(0, "cpu"),
        step_size=0.5,
        max_iter=1,
        n_inner_steps=20,
        learning_rate=0.05,
        n_projections=50,
        batch_size=512,
        needs_log_prob=False,
    )
    directions = random_directions(2, 2000, _gen(9), data.device, data.dtype)

    def f(m):
        if m.kind == "particles":
            x = m.parameters[0]
        else:
            x, _ = push_forward(
                m, torch.randn(4000, 2, generator=_gen(7), dtype=torch.float64)
            )
        return 0.5 * float(sliced_wasserstein_squared(x, data, directions))

    assert f(result.model) < f(model)
    assert result.loop.n_iter == 1 and np.isfinite(result.objective.numpy()).all()
