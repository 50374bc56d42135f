"""Identities of the semi-discrete entropic OT core, at small sizes."""

import numpy as np
import ot
import pytest
import torch

from skflow.ot import _core
from skflow.ot._core import (
    atom_marginal,
    c_transform,
    c_transform_gradient,
    cost_scale,
    dual_ascent_step,
    entropic_cost,
    semi_dual,
    semi_dual_and_gradient,
    soft_barycentre,
)


def _problem(n_source=30, n_data=20, d=3, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_source, d, generator=g, dtype=torch.float64)
    y = torch.randn(n_data, d, generator=g, dtype=torch.float64) * 1.5 + 0.3
    return x.to(device), y.to(device)


def _solve_dual(x, y, reg, scale, n_steps=400, psi=None, step_size=1.0):
    """Full-batch (deterministic) preconditioned ascent: the source is ``x``."""
    psi = (
        torch.zeros(y.shape[0], dtype=x.dtype, device=x.device) if psi is None else psi
    )
    for _ in range(n_steps):
        psi = dual_ascent_step(psi, x, y, reg, scale, step_size)
    return psi


def test_cost_scale_is_mean_pairwise_squared_distance():
    _, y = _problem()
    expected = torch.cdist(y, y).pow(2).mean()
    torch.testing.assert_close(cost_scale(y), expected, rtol=1e-12, atol=0)


def test_learned_dual_matches_pot_sinkhorn_potentials(device):
    # A fixed discrete source with uniform weights in place of the generator:
    # the semi-dual optimum is POT's discrete entropic dual g up to a constant.
    x, y = _problem(device=device)
    scale = cost_scale(y)
    reg = 0.1
    psi = _solve_dual(x, y, reg, scale)
    cost = ot.dist(x, y) / scale
    a = torch.full((x.shape[0],), 1 / x.shape[0], dtype=x.dtype, device=device)
    b = torch.full((y.shape[0],), 1 / y.shape[0], dtype=x.dtype, device=device)
    _, log = ot.sinkhorn(
        a,
        b,
        cost,
        reg,
        method="sinkhorn_log",
        log=True,
        stopThr=1e-13,
        numItermax=10000,
    )
    g = reg * log["log_v"]
    # Stated tolerance: 1e-6 in cost units (costs are O(1) by construction).
    torch.testing.assert_close(psi - psi.mean(), g - g.mean(), rtol=0, atol=1e-6)
    # At the optimum every data row receives its mass 1/M.
    mass = atom_marginal(x, y, psi, reg, scale)
    torch.testing.assert_close(mass, b, rtol=0, atol=1e-8)


def test_stochastic_averaged_dual_matches_pot_potentials():
    # Minibatches of the discrete source and iterate averaging (as in fit):
    # within 5% of the spread of the exact potential.
    x, y = _problem(n_source=200)
    scale = cost_scale(y)
    reg = 0.1
    g = torch.Generator().manual_seed(1)
    psi = torch.zeros(y.shape[0], dtype=x.dtype)
    total, n_avg = torch.zeros_like(psi), 0
    for step in range(3000):
        batch = x[torch.randint(x.shape[0], (32,), generator=g)]
        psi = dual_ascent_step(psi, batch, y, reg, scale, 0.2)
        if step >= 1000:
            total += psi
            n_avg += 1
    psi_bar = total / n_avg
    exact = _solve_dual(x, y, reg, scale)
    error = (psi_bar - exact).abs().max()
    assert error < 0.05 * exact.std()


def test_autograd_through_c_transform_equals_soft_barycentre_formula():
    x, y = _problem(seed=3)
    scale = cost_scale(y)
    psi = torch.randn(
        y.shape[0], dtype=x.dtype, generator=torch.Generator().manual_seed(4)
    )
    for reg in (1.0, 0.1, 0.01):
        x_var = x.clone().requires_grad_(True)
        c_transform(x_var, y, psi, reg, scale).sum().backward()
        formula = c_transform_gradient(x, y, psi, reg, scale)
        torch.testing.assert_close(x_var.grad, formula, rtol=1e-10, atol=1e-12)


def test_c_transform_matches_its_definition():
    x, y = _problem(seed=5)
    scale = cost_scale(y)
    psi = torch.randn(
        y.shape[0], dtype=x.dtype, generator=torch.Generator().manual_seed(6)
    )
    reg = 0.2
    cost = torch.cdist(x, y).pow(2) / scale
    expected = -reg * torch.log(torch.exp((psi - cost) / reg).mean(dim=1))
    torch.testing.assert_close(c_transform(x, y, psi, reg, scale), expected)


def test_streamed_transforms_equal_pot_semidiscrete_functions():
    # The streaming log-sum-exp computes what POT's ot.semidiscrete functions
    # compute on the whole score matrix.
    from ot.semidiscrete import (
        semidiscrete_atom_weights,
        semidiscrete_c_transform,
        semidiscrete_ot_map,
    )

    x, y = _problem(seed=9)
    scale = cost_scale(y)
    psi = torch.randn(
        y.shape[0], dtype=x.dtype, generator=torch.Generator().manual_seed(10)
    )

    def metric(a, b):
        return ot.dist(a, b) / scale

    for reg in (1.0, 0.1, 0.01):
        pot = (
            semidiscrete_c_transform(y, x, psi, metric=metric, reg=reg),
            semidiscrete_ot_map(y, x, psi, metric=metric, reg=reg),
            semidiscrete_atom_weights(y, x, psi, metric=metric, reg=reg).mean(dim=0),
        )
        ours = (
            c_transform(x, y, psi, reg, scale),
            soft_barycentre(x, y, psi, reg, scale),
            atom_marginal(x, y, psi, reg, scale),
        )
        for a, b in zip(ours, pot):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("entries", [1, 7, 64])
def test_blocks_give_the_same_results(monkeypatch, entries):
    # Chunks of one atom (the million-row regime), uneven chunks, and blocks of
    # a few generated rows change nothing.
    x, y = _problem(seed=7)
    scale = cost_scale(y)
    psi = torch.randn(
        y.shape[0], dtype=x.dtype, generator=torch.Generator().manual_seed(8)
    )

    def everything():
        return (
            c_transform(x, y, psi, 0.1, scale),
            soft_barycentre(x, y, psi, 0.1, scale),
            atom_marginal(x, y, psi, 0.1, scale),
            *semi_dual_and_gradient(x, y, psi, 0.1, scale),
        )

    whole = everything()
    monkeypatch.setattr(_core, "_BLOCK_ENTRIES", entries)
    monkeypatch.setattr(_core, "_ROW_BLOCK", 4)
    blocked = everything()
    for a, b in zip(whole, blocked):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(
        whole[3], semi_dual(x, y, psi, 0.1, scale), rtol=1e-12, atol=1e-14
    )
    torch.testing.assert_close(
        whole[4], c_transform_gradient(x, y, psi, 0.1, scale), rtol=1e-12, atol=0
    )


def test_blocks_are_bounded_and_cover_the_score_matrix():
    for n_rows, n_data in [(1, 1), (512, 1000), (5000, 10**6), (3, 10**8)]:
        covered = 0
        for rows, chunks in _core._blocks(n_rows, n_data):
            assert sum(c.stop - c.start for c in chunks) == n_data
            for atoms in chunks:
                entries = (rows.stop - rows.start) * (atoms.stop - atoms.start)
                assert entries <= _core._BLOCK_ENTRIES
            covered += rows.stop - rows.start
        assert covered == n_rows


def test_entropic_cost_approaches_emd2_as_reg_vanishes():
    x, y = _problem(n_source=12, n_data=12, seed=9)
    scale = cost_scale(y)
    a = torch.full((12,), 1 / 12, dtype=x.dtype)
    exact = float(ot.emd2(a, a, ot.dist(x, y) / scale))
    psi, gaps = None, []
    # Warm-started over decreasing reg (the dual gets stiffer as reg shrinks).
    for reg in (0.3, 0.1, 0.03, 0.01, 0.003, 0.001):
        psi = _solve_dual(x, y, reg, scale, n_steps=1500, psi=psi)
        value = float(semi_dual(x, y, psi, reg, scale))
        # Any psi gives a lower bound on OT_eps, and
        # OT_0 <= OT_eps <= OT_0 + reg * log(n) (KL of a coupling <= log n), so
        # OT_eps -> OT_0 linearly in reg.
        assert exact - 1e-9 <= value <= exact + reg * np.log(12) + 1e-9
        gaps.append(value - exact)
    assert gaps[-1] < 0.015 * exact
    assert all(later <= earlier + 1e-9 for earlier, later in zip(gaps, gaps[1:]))


def test_minibatch_sinkhorn_cost_approaches_emd2():
    x, y = _problem(n_source=15, n_data=15, seed=10)
    scale = cost_scale(y)
    a = torch.full((15,), 1 / 15, dtype=x.dtype)
    exact = float(ot.emd2(a, a, ot.dist(x, y) / scale))
    gaps = []
    # Down to the smallest reg that POT's capped minibatch Sinkhorn (100
    # iterations) still solves at this size.
    for reg in (0.3, 0.1, 0.03, 0.01):
        gap = float(entropic_cost(x, y, reg, scale)) - exact
        assert -1e-3 <= gap <= reg * np.log(15) + 1e-3
        gaps.append(gap)
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:]))
    assert gaps[-1] < 0.1 * exact


def test_entropic_cost_gradient_is_the_plan_average():
    # Envelope gradient: sum_j pi_ij grad_x c(x_i, y_j) with the optimal plan.
    x, y = _problem(n_source=10, n_data=10, seed=11)
    scale = cost_scale(y)
    reg = 0.2
    x_var = x.clone().requires_grad_(True)
    entropic_cost(x_var, y, reg, scale).backward()
    a = torch.full((10,), 0.1, dtype=x.dtype)
    plan = ot.sinkhorn(
        a,
        a,
        ot.dist(x, y) / scale,
        reg,
        method="sinkhorn_log",
        stopThr=1e-12,
        numItermax=10000,
    )
    expected = (2 / scale) * (plan.sum(1, keepdim=True) * x - plan @ y)
    torch.testing.assert_close(x_var.grad, expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_device_and_dtype_follow_the_input(device, dtype):
    x, y = _problem(device=device)
    x, y = x.to(dtype), y.to(dtype)
    scale = cost_scale(y)
    psi = dual_ascent_step(
        torch.zeros(y.shape[0], dtype=dtype, device=device), x, y, 0.1, scale, 0.5
    )
    out = soft_barycentre(x, y, psi, 0.1, scale)
    assert psi.dtype == dtype and out.dtype == dtype
    assert psi.device.type == torch.device(device).type
    assert out.device.type == torch.device(device).type
