"""ProximalMFGFlow core: ODE solver orders, quadrature, HJ residuals, velocities."""

import math

import pytest
import torch

from skflow._nn import init_critic
from skflow._torch_utils import make_streams
from skflow.proximal._core import (
    Field,
    hj_residual,
    init_field,
    integrate,
    potential,
    proximal_flow,
    velocity,
)

DTYPE = torch.float64


def _linear_problem():
    # dx/dt = A x: a damped rotation, exact solution x(T) = expm(A T) x0.
    A = torch.tensor([[-0.5, 2.0], [-2.0, -0.5]], dtype=DTYPE)
    x0 = torch.tensor([[1.0, 0.0], [0.3, -1.2], [-0.7, 0.4]], dtype=DTYPE)
    T = 1.5
    exact = x0 @ torch.linalg.matrix_exp(A * T).t()
    return A, x0, T, exact


@pytest.mark.parametrize("solver, order", [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_solver_order_on_a_linear_field(solver, order):
    A, x0, T, exact = _linear_problem()
    errors = []
    for n_steps in (16, 32, 64):
        result = integrate(
            lambda x, t: x @ A.t(), x0, time_horizon=T, n_steps=n_steps, solver=solver
        )
        errors.append(float((result.terminal - exact).norm()))
    # Halving the step divides the global error by 2^order (within 15%: the
    # asymptotic regime is reached by 16 steps here).
    for coarse, fine in zip(errors[:-1], errors[1:]):
        assert coarse / fine == pytest.approx(2.0**order, rel=0.15)


@pytest.mark.parametrize("solver", ["euler", "heun", "rk4"])
def test_path_shape_endpoints_and_constant_field_energy(solver):
    c = torch.tensor([3.0, -4.0], dtype=DTYPE)
    x0 = torch.zeros(5, 2, dtype=DTYPE)
    result = integrate(
        lambda x, t: c.expand_as(x),
        x0,
        time_horizon=2.0,
        n_steps=7,
        solver=solver,
        keep_path=True,
    )
    assert result.path.shape == (8, 5, 2)
    torch.testing.assert_close(result.path[0], x0)
    torch.testing.assert_close(result.path[-1], result.terminal)
    # x(T) = x0 + c T and int_0^T 0.5 |c|^2 dt = 0.5 * 25 * 2, exactly.
    torch.testing.assert_close(result.terminal, x0 + 2.0 * c)
    assert float(result.kinetic_energy) == pytest.approx(25.0)


def test_kinetic_quadrature_converges_for_a_time_varying_field():
    # v(x, t) = t * e1: int_0^T 0.5 t^2 dt = T^3 / 6; rk4 integrates it exactly.
    x0 = torch.zeros(3, 2, dtype=DTYPE)
    e1 = torch.tensor([1.0, 0.0], dtype=DTYPE)
    result = integrate(
        lambda x, t: t * e1.expand_as(x),
        x0,
        time_horizon=2.0,
        n_steps=4,
        solver="rk4",
    )
    assert float(result.kinetic_energy) == pytest.approx(8.0 / 6.0)


def _field(kind, lam=0.3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    field = init_field(
        kind,
        3,
        (8,),
        kinetic_weight=lam,
        time_horizon=2.0,
        generator=generator,
        device="cpu",
        dtype=DTYPE,
    )
    # Undo the near-zero output initialisation so the checks are not trivial.
    with torch.no_grad():
        for p in field.parameters:
            p.normal_(generator=generator)
    return field


def test_potential_velocity_is_minus_grad_u_over_lambda():
    field = _field("potential", lam=0.3)
    x = torch.randn(6, 3, dtype=DTYPE, requires_grad=True)
    t = torch.tensor(0.7, dtype=DTYPE)
    (grad_u,) = torch.autograd.grad(potential(field, x, t).sum(), x)
    torch.testing.assert_close(velocity(field, x, t), -grad_u / 0.3)
    with torch.no_grad():  # sampling path: still differentiates U
        torch.testing.assert_close(velocity(field, x.detach(), t), -grad_u / 0.3)


def test_hj_residual_closed_form_for_a_linear_potential():
    # N(x, t) = w . x + w_t t / T + b, U = lam N: grad U = lam w,
    # d_t U = lam w_t / T, residual -lam w_t / T + lam |w|^2 / 2 everywhere.
    lam, T = 0.3, 2.0
    w = torch.tensor([[0.5, -1.0, 2.0, 0.8]], dtype=DTYPE)
    field = Field("potential", [w, torch.tensor([0.1], dtype=DTYPE)], lam, T)
    x = torch.randn(10, 3, dtype=DTYPE)
    t = torch.rand(10, dtype=DTYPE) * T
    expected = (-lam * 0.8 / T + lam * (0.25 + 1.0 + 4.0) / 2) ** 2
    assert float(hj_residual(field, x, t)) == pytest.approx(expected)
    # Choosing w_t = T |w|^2 / 2 solves the HJ equation: residual zero.
    w_exact = w.clone()
    w_exact[0, 3] = T * 5.25 / 2
    exact = Field("potential", [w_exact, torch.tensor([0.1], dtype=DTYPE)], lam, T)
    assert float(hj_residual(exact, x, t)) == pytest.approx(0.0, abs=1e-20)


def test_burgers_residual_closed_form_for_a_linear_velocity():
    # v(x, t) = A x + a t / T + b: d_t v + (v . grad) v = a / T + A v.
    T = 2.0
    gen = torch.Generator().manual_seed(1)
    A = torch.randn(3, 3, generator=gen, dtype=DTYPE)
    a = torch.randn(3, 1, generator=gen, dtype=DTYPE)
    b = torch.randn(3, generator=gen, dtype=DTYPE)
    field = Field("velocity", [torch.cat([A, a], dim=1), b], 0.1, T)
    x = torch.randn(20, 3, generator=gen, dtype=DTYPE)
    t = torch.rand(20, generator=gen, dtype=DTYPE) * T
    v = x @ A.t() + (t / T)[:, None] * a[:, 0] + b
    r = a[:, 0] / T + v @ A.t()
    expected = r.pow(2).sum(dim=1).mean()
    assert float(hj_residual(field, x, t)) == pytest.approx(float(expected))
    # A constant velocity (straight lines, constant speed) has residual zero.
    still = Field("velocity", [torch.zeros(3, 4, dtype=DTYPE), b], 0.1, T)
    assert float(hj_residual(still, x, t)) == 0.0


def test_non_finite_data_is_detected():
    generator = torch.Generator().manual_seed(0)
    data = torch.randn(50, 2, generator=generator, dtype=DTYPE)
    data[3, 0] = math.nan
    field = init_field(
        "velocity",
        2,
        (8,),
        kinetic_weight=0.1,
        time_horizon=1.0,
        generator=generator,
        device="cpu",
        dtype=DTYPE,
    )
    critic = init_critic(2, (8,), generator, "cpu", DTYPE)
    start = (torch.zeros(2, dtype=DTYPE), torch.eye(2, dtype=DTYPE))
    result = proximal_flow(
        data,
        field,
        *critic,
        start,
        streams=make_streams(0, "cpu"),
        max_iter=30,
        batch_size=64,
        n_time_steps=3,
        check_every=10,
    )
    assert result.loop.non_finite_at is not None
    assert result.loop.n_iter <= 10


@pytest.mark.parametrize("kind", ["velocity", "potential"])
def test_device_and_dtype_follow_the_input(kind):
    field = _field(kind)
    x0 = torch.randn(4, 3, dtype=DTYPE)
    result = integrate(
        lambda x, t: velocity(field, x, t),
        x0,
        time_horizon=2.0,
        n_steps=3,
        solver="heun",
    )
    assert result.terminal.dtype == DTYPE
    assert result.terminal.device == x0.device
