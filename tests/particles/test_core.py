"""Divergence objectives and the particle flow, by identities and closed forms."""

import math

import pytest
import torch

from skflow._nn import init_critic
from skflow._recovery import MAX_RECOVERIES
from skflow._torch_utils import make_streams
from skflow.particles._core import (
    alpha_conjugate,
    critic_objective,
    lipschitz_particle_flow,
    median_nearest_distance,
    transport,
)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 4.0])
def test_alpha_conjugate_is_the_legendre_transform(alpha):
    # f*(y) = sup_x x y - f(x) over x >= 0, computed on a fine grid.
    x = torch.linspace(0, 20, 200_001, dtype=torch.float64)
    f = (x**alpha - 1) / (alpha * (alpha - 1))
    for y in [-1.0, 0.0, 0.3, 1.0, 2.5]:
        numeric = float((x * y - f).max())
        closed = float(alpha_conjugate(torch.tensor(y, dtype=torch.float64), alpha))
        assert closed == pytest.approx(numeric, abs=1e-6)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 3.0])
def test_alpha_objective_is_zero_for_equal_measures_at_optimal_shift(alpha):
    # Constant critic c: the infimum over nu is attained at nu = c - 1/(alpha-1)
    # and the objective is exactly 0 = D(Q || Q); other shifts give less.
    c = torch.full((50,), 0.7, dtype=torch.float64)
    best = torch.tensor(0.7 - 1 / (alpha - 1), dtype=torch.float64)
    value = critic_objective(c, c, "alpha", alpha, best)
    assert float(value) == pytest.approx(0.0, abs=1e-12)
    for offset in (-0.3, 0.2):
        assert float(critic_objective(c, c, "alpha", alpha, best + offset)) < 0


def test_kl_objective_reaches_gaussian_kl_with_the_optimal_critic():
    # P = N(m, 1), Q = N(0, 1): phi(x) = m x attains KL = m^2 / 2.
    m = 0.8
    generator = torch.Generator().manual_seed(0)
    p = torch.randn(400_000, generator=generator, dtype=torch.float64) + m
    q = torch.randn(400_000, generator=generator, dtype=torch.float64)
    value = critic_objective(m * p, m * q, "kl", 2.0, torch.tensor(0.0))
    assert float(value) == pytest.approx(m**2 / 2, abs=0.01)


def test_kl_objective_does_not_overflow_on_heavy_tails():
    phi_data = torch.tensor([0.0, 1.0, 5000.0, 20000.0])
    value = critic_objective(torch.zeros(3), phi_data, "kl", 2.0, torch.tensor(0.0))
    assert math.isfinite(float(value))
    assert float(value) == pytest.approx(-(20000.0 - math.log(4)), rel=1e-6)


def test_wasserstein_objective_is_w1_for_a_translation():
    # Translation by t along e_1 with the 1-Lipschitz critic x_1: W1 = |t|.
    generator = torch.Generator().manual_seed(0)
    q = torch.randn(10_000, 3, generator=generator, dtype=torch.float64)
    p = q + torch.tensor([1.5, 0.0, 0.0], dtype=torch.float64)
    value = critic_objective(p[:, 0], q[:, 0], "wasserstein", 2.0, torch.tensor(0.0))
    assert float(value) == pytest.approx(1.5, rel=1e-9)


def _flow(start, data, *, max_iter=60, lipschitz_constant=1.0, step_size=0.1, **kw):
    generator = torch.Generator().manual_seed(0)
    weights, biases, vectors = init_critic(
        data.shape[1], (32, 32), generator, data.device, data.dtype
    )
    result = lipschitz_particle_flow(
        start,
        data,
        weights,
        biases,
        vectors,
        streams=make_streams(0, "cpu"),
        max_iter=max_iter,
        lipschitz_constant=lipschitz_constant,
        step_size=step_size,
        **kw,
    )
    return result, [tuple(w.shape) for w in weights]


@pytest.fixture(scope="module")
def gaussian_to_mixture():
    generator = torch.Generator().manual_seed(0)
    data = torch.cat(
        [
            torch.randn(150, 2, generator=generator, dtype=torch.float64) * 0.4 + 1.5,
            torch.randn(150, 2, generator=generator, dtype=torch.float64) * 0.4 - 1.5,
        ]
    )
    start = torch.randn(400, 2, generator=generator, dtype=torch.float64)
    return start, data


def test_replaying_the_recorded_flow_reproduces_the_particles(gaussian_to_mixture):
    start, data = gaussian_to_mixture
    result, shapes = _flow(start, data, activation="tanh")
    replayed = transport(
        start, result.critic_trajectory, shapes, activation="tanh", step_size=0.1
    )
    torch.testing.assert_close(replayed, result.particles, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("bound, step", [(1.0, 0.1), (0.5, 0.3)])
def test_no_particle_moves_faster_than_the_lipschitz_bound(
    gaussian_to_mixture, bound, step
):
    start, data = gaussian_to_mixture
    result, shapes = _flow(
        start, data, max_iter=20, lipschitz_constant=bound, step_size=step
    )
    x = start
    for flat in result.critic_trajectory:
        moved = transport(x, flat[None], shapes, activation="relu", step_size=step)
        assert float((moved - x).norm(dim=1).max()) <= bound * step * (1 + 1e-3)
        x = moved


@pytest.mark.parametrize("divergence", ["kl", "alpha", "wasserstein"])
def test_flow_decreases_distance_to_data(gaussian_to_mixture, divergence):
    from skflow._pairwise import energy_distance_tensor

    start, data = gaussian_to_mixture
    result, _ = _flow(start, data, max_iter=150, divergence=divergence)
    before = float(energy_distance_tensor(start, data))
    after = float(energy_distance_tensor(result.particles, data))
    assert after < 0.5 * before
    # The divergence estimate peaks once the critic has learned, then falls as
    # the particles approach the data; the kinetic energy falls with it.
    divergence_trace = result.divergence.numpy()
    kinetic = result.kinetic_energy.numpy()
    assert divergence_trace[-10:].mean() < 0.7 * divergence_trace.max()
    assert kinetic[-10:].mean() < 0.7 * kinetic.max()


def test_memorization_reference_stops_the_flow(gaussian_to_mixture):
    start, data = gaussian_to_mixture
    spacing = median_nearest_distance(data, data, exclude_self=True)
    result, _ = _flow(
        start,
        data,
        max_iter=2000,
        step_size=0.2,
        memorization_reference=(data, spacing),
    )
    assert result.loop.stop_reason == "memorization"
    assert result.loop.n_iter < 2000
    assert float(median_nearest_distance(result.particles, data)) <= float(spacing)


def test_median_nearest_distance_closed_form():
    points = torch.tensor([[0.0], [1.0], [3.0], [7.0]], dtype=torch.float64)
    # Leave-one-out nearest distances: 1, 1, 2, 4 -> lower median 1.
    assert float(median_nearest_distance(points, points, exclude_self=True)) == 1.0
    assert float(median_nearest_distance(points + 0.25, points, chunk_rows=3)) == 0.25


def test_tol_stops_when_kinetic_energy_is_small():
    # Particles already on the data: the critic has nothing to push.
    generator = torch.Generator().manual_seed(0)
    data = torch.randn(200, 2, generator=generator, dtype=torch.float64)
    result, _ = _flow(data.clone(), data, max_iter=500, tol=1e-2)
    assert result.loop.stop_reason == "tol"
    assert result.loop.n_iter < 500


def test_non_finite_particles_are_reported():
    data = torch.randn(50, 2, dtype=torch.float64)
    start = data.clone()
    start[3, 0] = float("nan")
    result, _ = _flow(start, data, max_iter=30)
    # The NaN is there before the first step, so no rollback can reach a finite
    # state: every allowed rollback is tried, then the loop gives up at
    # iteration 0 instead of running all 30 iterations on NaN particles.
    assert result.loop.non_finite_at == 0
    assert len(result.loop.recoveries) == MAX_RECOVERIES
    assert all(r.restored_to == 0 for r in result.loop.recoveries)
    assert result.loop.n_iter < 30


def test_memorization_reference_subsamples_and_scales():
    from skflow._memorization import median_nearest_distance, memorization_reference

    data = torch.randn(300, 3, generator=torch.Generator().manual_seed(0))
    rows, threshold = memorization_reference(
        data, torch.Generator().manual_seed(1), max_rows=100, ratio=0.5
    )
    assert rows.shape == (100, 3)
    # Every kept row is a training row, without repeats.
    matches = (rows[:, None, :] == data[None, :, :]).all(dim=2)
    assert bool((matches.sum(dim=1) == 1).all())
    assert len({tuple(r.tolist()) for r in rows}) == 100
    spacing = median_nearest_distance(rows, rows, exclude_self=True)
    torch.testing.assert_close(threshold, 0.5 * spacing)
    all_rows, _ = memorization_reference(data, torch.Generator(), max_rows=1000)
    assert torch.equal(all_rows, data)
