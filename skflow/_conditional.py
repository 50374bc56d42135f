"""Torch core of conditional sampling: fixed coordinates, the rest drawn.

Each function takes the *targets* as a tensor of shape ``(n, d)`` in the
sampler's standardised space: a finite entry fixes that coordinate of that
row, NaN leaves it free. Rows may fix different coordinates (imputation), so
nothing assumes one pattern for all rows. Three ways, by what a family has:

* :func:`gaussian_mixture_conditional`: exact, for a fitted Gaussian mixture;
* :func:`latent_conditional_draw`: for a model that is a differentiable map
  of Gaussian noise (a generator network, a normalizing flow, an ODE flow),
  Metropolis-adjusted Langevin on the noise, whose target is the model's own
  conditional with the fixed coordinates observed through a narrow Gaussian
  kernel;
* kernel rejection (in ``skflow._conditions``) for everything else.

Written here because no library does this on our models: Pyro and NumPyro
have MALA/HMC kernels, but they would bring a dependency and a model language
for what is one vectorised update on a batch of independent chains.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

# Latent chains: Metropolis-adjusted Langevin steps, the share of them spent
# narrowing the kernel from its starting width, candidates per row for the
# starting point, the effective number of candidates the starting width must
# keep, and the acceptance rate the step size is tuned to (the optimum for
# MALA in high dimension, Roberts and Rosenthal 1998).
LATENT_STEPS = 200
ANNEAL_SHARE = 0.6
LATENT_CANDIDATES = 128
MIN_EFFECTIVE_CANDIDATES = 4.0
TARGET_ACCEPTANCE = 0.574
# The kernel's width in standardised units: the generated fixed coordinates
# are within about this of the targets before they are set exactly.
LATENT_BANDWIDTH = 0.03


class ConditionalDraw(NamedTuple):
    """Rows drawn under fixed coordinates, and how they were drawn.

    Attributes
    ----------
    rows : Tensor of shape (n, d)
        The rows; fixed coordinates equal their targets exactly.
    acceptance_rate : float
        The Metropolis acceptance rate of the last phase (latent chains), or 1
        for exact draws.
    misfit : float
        Root mean square distance of the fixed coordinates, before they were
        set, from their targets in kernel widths (0 for exact draws).
    """

    rows: torch.Tensor
    acceptance_rate: float
    misfit: float


def _given(targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    given = ~torch.isnan(targets)
    return given, torch.where(given, targets, torch.zeros_like(targets))


def gaussian_mixture_conditional(
    weights: torch.Tensor,
    means: torch.Tensor,
    covariances: torch.Tensor,
    targets: torch.Tensor,
    generator: torch.Generator,
) -> ConditionalDraw:
    """Exact draws from a Gaussian mixture's conditional given fixed coordinates.

    Given ``x_F = c``, the conditional is again a mixture: component ``k``
    has weight proportional to ``w_k N(c; mu_kF, S_kFF)`` and the Gaussian
    ``N(mu_kR + S_kRF S_kFF^{-1} (c - mu_kF), S_kRR - S_kRF S_kFF^{-1} S_kFR)``
    over the free coordinates ``R``. Rows are grouped by which coordinates
    they fix; the loop is over those patterns and the components, never rows.
    """
    n, d = targets.shape
    out_dtype = targets.dtype
    # The Schur complements below lose positive definiteness in float32 when
    # a component is nearly degenerate (duplicated rows, a column that is
    # almost a function of others): the algebra runs in float64, on the
    # k x d x d parameters and the rows only.
    weights, means, covariances, targets = (
        t.to(torch.float64) for t in (weights, means, covariances, targets)
    )
    given, values = _given(targets)
    rows = values.clone()
    patterns, inverse = torch.unique(given, dim=0, return_inverse=True)
    eye = torch.eye(d, device=means.device, dtype=means.dtype)
    for p, pattern in enumerate(patterns):
        members = torch.nonzero(inverse == p).flatten()
        fixed, free = pattern, ~pattern
        if not bool(free.any()):
            continue
        c = values[members][:, fixed]
        if not bool(fixed.any()):
            log_w = torch.log(weights).expand(len(members), -1)
        else:
            s_ff = covariances[:, fixed][:, :, fixed]
            chol_ff = torch.linalg.cholesky(
                s_ff + 1e-9 * eye[: c.shape[1], : c.shape[1]]
            )
            resid = c[None, :, :] - means[:, None, fixed]  # (k, m, f)
            solved = torch.linalg.solve_triangular(
                chol_ff, resid.transpose(1, 2), upper=False
            )  # (k, f, m)
            log_det = 2 * torch.log(torch.diagonal(chol_ff, dim1=1, dim2=2)).sum(1)
            log_density = -0.5 * (
                solved.pow(2).sum(1)
                + log_det[:, None]
                + c.shape[1] * math.log(2 * math.pi)
            )  # (k, m)
            log_w = (torch.log(weights)[:, None] + log_density).T
        component = torch.multinomial(
            torch.softmax(log_w, dim=1), 1, generator=generator
        ).flatten()
        noise = torch.randn(
            len(members),
            int(free.sum()),
            generator=generator,
            device=means.device,
            dtype=means.dtype,
        )
        drawn = torch.empty_like(noise)
        for k in torch.unique(component).tolist():
            chosen = component == k
            s_rr = covariances[k][free][:, free]
            mean_r = means[k][free].expand(int(chosen.sum()), -1)
            if bool(fixed.any()):
                s_rf = covariances[k][free][:, fixed]
                s_ff = covariances[k][fixed][:, fixed]
                gain = torch.linalg.solve(s_ff, s_rf.T).T  # S_RF S_FF^{-1}
                mean_r = mean_r + (c[chosen] - means[k][fixed]) @ gain.T
                s_rr = s_rr - gain @ s_rf.T
            # A square root of the conditional covariance through its
            # eigendecomposition, rounding error's negative eigenvalues set to
            # 0: exact for any positive semi-definite matrix, where Cholesky
            # fails on a (numerically) singular one.
            eigenvalues, eigenvectors = torch.linalg.eigh(0.5 * (s_rr + s_rr.T))
            root = eigenvectors * eigenvalues.clamp_min(0).sqrt()
            drawn[chosen] = mean_r + noise[chosen] @ root.T
        block = rows[members]
        block[:, free] = drawn
        rows[members] = block
    return ConditionalDraw(rows.to(out_dtype), 1.0, 0.0)


def _misfit(x: torch.Tensor, given: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    return ((x - values) * given).pow(2).sum(dim=-1)


def latent_conditional_draw(
    push_forward: Callable[[torch.Tensor], torch.Tensor],
    latent_dim: int,
    targets: torch.Tensor,
    generator: torch.Generator,
    *,
    bandwidth: float = LATENT_BANDWIDTH,
    n_steps: int = LATENT_STEPS,
    n_candidates: int = LATENT_CANDIDATES,
    chunk_rows: int = 4096,
) -> ConditionalDraw:
    r"""Draw ``x = g(z)`` given fixed coordinates by Langevin chains on ``z``.

    The target over the noise is the model's conditional with the fixed
    coordinates ``F`` observed through a Gaussian kernel of width ``h``:

    .. math:: \pi(z) \propto \exp\bigl(-\tfrac12 |z|^2
              - |g_F(z) - c|^2 / (2 h^2)\bigr),

    whose pushforward tends to the model's exact conditional as ``h -> 0``.
    One chain per row starts from the best of ``n_candidates`` prior draws
    (resampled with the widest kernel, among ``h * 2**k``, that still leaves
    ``MIN_EFFECTIVE_CANDIDATES`` effective candidates), then runs ``n_steps``
    Metropolis-adjusted Langevin steps while the kernel narrows geometrically
    to ``h`` over the first ``ANNEAL_SHARE`` of them. Each chain tunes its own
    step size to the acceptance rate ``TARGET_ACCEPTANCE``.
    """
    n = targets.shape[0]
    out = torch.empty_like(targets)
    accepted_total, misfit_total = 0.0, 0.0
    for start in range(0, n, chunk_rows):
        block = targets[start : start + chunk_rows]
        result = _latent_chunk(
            push_forward,
            latent_dim,
            block,
            generator,
            bandwidth=bandwidth,
            n_steps=n_steps,
            n_candidates=n_candidates,
        )
        out[start : start + len(block)] = result.rows
        accepted_total += result.acceptance_rate * len(block)
        misfit_total += result.misfit**2 * len(block)
    return ConditionalDraw(out, accepted_total / n, math.sqrt(misfit_total / n))


def _latent_chunk(
    push_forward, latent_dim, targets, generator, *, bandwidth, n_steps, n_candidates
) -> ConditionalDraw:
    m = targets.shape[0]
    device, dtype = targets.device, targets.dtype
    given, values = _given(targets)
    n_given = given.sum(dim=1).to(dtype)

    # 1. A starting point per row, from prior draws weighted by the kernel.
    with torch.no_grad():
        z_pool = torch.randn(
            m, n_candidates, latent_dim, generator=generator, device=device, dtype=dtype
        )
        x_pool = push_forward(z_pool.reshape(m * n_candidates, latent_dim))
        distance = _misfit(
            x_pool.reshape(m, n_candidates, -1),
            given[:, None, :],
            values[:, None, :],
        )  # (m, P) squared distances
        widths = bandwidth * 2.0 ** torch.arange(16, device=device, dtype=dtype)
        log_w = -distance[:, None, :] / (2 * widths[None, :, None] ** 2)  # (m, W, P)
        w = torch.softmax(log_w, dim=2)
        effective = 1.0 / w.pow(2).sum(dim=2)  # (m, W)
        enough = effective >= MIN_EFFECTIVE_CANDIDATES
        # The narrowest width that keeps enough candidates (the widest if none).
        first = torch.where(
            enough.any(dim=1), enough.to(torch.int64).argmax(dim=1), len(widths) - 1
        )
        start_width = widths[first]
        gumbel = -torch.log(
            -torch.log(
                torch.rand(
                    m, n_candidates, generator=generator, device=device, dtype=dtype
                ).clamp_min(1e-12)
            )
        )
        chosen_log_w = log_w[torch.arange(m, device=device), first]
        pick = (chosen_log_w + gumbel).argmax(dim=1)
        z = z_pool[torch.arange(m, device=device), pick].clone()
    del z_pool, x_pool

    # 2. Annealed, step-size-adapted MALA on the noise.
    n_anneal = max(int(ANNEAL_SHARE * n_steps), 1)
    ratio = (bandwidth / start_width).clamp(max=1.0)

    def log_target_and_grad(z, width):
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            x = push_forward(z)
            log_p = -0.5 * z.pow(2).sum(dim=1) - _misfit(x, given, values) / (
                2 * width**2
            )
            (grad,) = torch.autograd.grad(log_p.sum(), z)
        return log_p.detach(), grad, x.detach()

    width = start_width
    # Stable steps scale with the kernel's width squared (the curvature of
    # the misfit term); rows that fix nothing start at the prior's scale.
    step = torch.where(n_given > 0, 0.5 * width**2, torch.full_like(width, 0.5))
    log_p, grad, x = log_target_and_grad(z, width)
    accepted = torch.zeros(m, device=device, dtype=dtype)
    n_final = 0
    for t in range(n_steps):
        if t < n_anneal:
            new_width = start_width * ratio ** ((t + 1) / n_anneal)
            # Narrowing the kernel changes the target: rescore the current state.
            step = step * torch.where(n_given > 0, (new_width / width) ** 2, 1.0)
            width = new_width
            log_p, grad, x = log_target_and_grad(z, width)
        noise = torch.randn(z.shape, generator=generator, device=device, dtype=dtype)
        proposal = z + step[:, None] * grad + torch.sqrt(2 * step)[:, None] * noise
        log_p_new, grad_new, x_new = log_target_and_grad(proposal, width)
        forward = -(proposal - z - step[:, None] * grad).pow(2).sum(1) / (4 * step)
        backward = -(z - proposal - step[:, None] * grad_new).pow(2).sum(1) / (4 * step)
        log_ratio = log_p_new - log_p + backward - forward
        uniform = torch.rand(m, generator=generator, device=device, dtype=dtype)
        accept = torch.log(uniform.clamp_min(1e-30)) < log_ratio
        accept = accept & torch.isfinite(log_ratio)
        z = torch.where(accept[:, None], proposal, z)
        x = torch.where(accept[:, None], x_new, x)
        log_p = torch.where(accept, log_p_new, log_p)
        grad = torch.where(accept[:, None], grad_new, grad)
        # Robbins-Monro on the log step towards the target acceptance rate.
        step = step * torch.exp(0.2 * (accept.to(dtype) - TARGET_ACCEPTANCE))
        if t >= n_anneal:
            accepted += accept.to(dtype)
            n_final += 1
    misfit = torch.sqrt(
        (_misfit(x, given, values) / width**2 / n_given.clamp_min(1)).mean()
    )
    rows = torch.where(given, values, x)
    rate = float(accepted.mean()) / max(n_final, 1)
    return ConditionalDraw(rows, rate, float(misfit))
