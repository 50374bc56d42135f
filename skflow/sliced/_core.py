r"""JKO gradient flows in sliced-Wasserstein space (seed 001), as tensor functions.

One JKO step solves

.. math::

    \mu_{k+1} = \arg\min_\mu \frac{SW_2^2(\mu, \mu_k)}{2\tau} + F(\mu)

over a generative model warm-started at :math:`\mu_k`, with a few Adam steps on
Monte Carlo estimates: fresh latent draws and fresh random directions each step.
The device and dtype follow the inputs; randomness comes from an explicit
``torch.Generator``; nothing is validated or printed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from .._nn import init_mlp, mlp_forward
from .._recovery import MAX_RECOVERIES, FiniteCheckpoint, Recovery

# Log-scales of coupling layers are bounded by tanh * this: keeps every step
# invertible and the log-determinant finite.
_MAX_LOG_SCALE = 2.0


# --------------------------------------------------------------------------
# Sliced Wasserstein distance
# --------------------------------------------------------------------------


def random_directions(
    n_features: int,
    n_projections: int,
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor:
    """``n_projections`` uniform unit vectors, as columns of a (d, P) matrix."""
    directions = torch.randn(
        n_features, n_projections, generator=generator, device=device, dtype=dtype
    )
    return directions / directions.norm(dim=0, keepdim=True)


def wasserstein_1d_squared(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r"""Exact :math:`W_2^2` between uniform empirical measures, per column.

    ``u`` is (n, P), ``v`` is (m, P). The quantile functions are step functions
    with jumps at ``i/n`` and ``j/m``; the integral of their squared difference
    is a sum over the merged jump points. With ``n == m`` it reduces to the mean
    squared difference of the sorted columns.
    """
    u_sorted = torch.sort(u, dim=0).values
    v_sorted = torch.sort(v, dim=0).values
    n, m = u.shape[0], v.shape[0]
    if n == m:
        return (u_sorted - v_sorted).pow(2).mean(dim=0)
    levels = torch.cat(
        [
            torch.arange(1, n + 1, device=u.device, dtype=u.dtype) / n,
            torch.arange(1, m + 1, device=u.device, dtype=u.dtype) / m,
        ]
    )
    levels = torch.sort(levels).values
    widths = torch.diff(levels, prepend=levels.new_zeros(1))
    midpoints = levels - widths / 2
    u_index = torch.clamp((midpoints * n).long(), max=n - 1)
    v_index = torch.clamp((midpoints * m).long(), max=m - 1)
    differences = u_sorted[u_index] - v_sorted[v_index]
    return (widths[:, None] * differences.pow(2)).sum(dim=0)


def sliced_wasserstein_squared(
    x: torch.Tensor, y: torch.Tensor, directions: torch.Tensor
) -> torch.Tensor:
    r""":math:`SW_2^2(x, y)`: mean over directions of the 1-D :math:`W_2^2`.

    Differentiable in ``x`` and ``y`` (sorting is piecewise a permutation).
    """
    return wasserstein_1d_squared(x @ directions, y @ directions).mean()


# --------------------------------------------------------------------------
# Entropy estimates
# --------------------------------------------------------------------------


def knn_neg_entropy(x: torch.Tensor) -> torch.Tensor:
    r"""Kozachenko-Leonenko estimate of :math:`E[\log \mu] = -H(\mu)`, up to a constant.

    :math:`H \approx \frac{d}{n}\sum_i \log \rho_i + \text{const}` with
    :math:`\rho_i` the distance from :math:`x_i` to its nearest neighbour; its
    gradient pushes close points apart. Used for sample-based models, which have
    no density.
    """
    n, d = x.shape
    distances = torch.cdist(x, x)
    eye = torch.eye(n, device=x.device, dtype=torch.bool)
    nearest = distances.masked_fill(eye, float("inf")).min(dim=1).values
    return -d * torch.log(nearest + 1e-12).mean()


# --------------------------------------------------------------------------
# Models: pushforward generator, RealNVP flow, particles
# --------------------------------------------------------------------------


class Model(NamedTuple):
    """A generative model as a kind and a flat list of parameter tensors.

    ``kind`` is ``"generator"`` (``x = A z + b + MLP(z)``, a residual MLP around
    an affine map), ``"normalizing_flow"`` (RealNVP affine couplings after a
    lower-triangular affine map) or ``"particles"`` (the tensor of points).
    """

    kind: str
    parameters: list[torch.Tensor]
    n_features: int
    n_layers: int


def init_model(
    kind: str,
    n_features: int,
    *,
    hidden_layer_sizes: tuple[int, ...],
    n_layers: int,
    mean: torch.Tensor,
    cholesky: torch.Tensor,
    generator: torch.Generator,
    n_particles: int = 0,
) -> Model:
    """A model whose initial distribution is ``N(mean, cholesky cholesky^T)``.

    The network parts start at zero output (last layer zeroed), so the first
    JKO step starts exactly from the Gaussian.
    """
    device, dtype = mean.device, mean.dtype
    d = n_features
    if kind == "particles":
        noise = torch.randn(
            n_particles, d, generator=generator, device=device, dtype=dtype
        )
        return Model(kind, [mean + noise @ cholesky.t()], d, 0)
    affine = [cholesky.clone(), mean.clone()]
    if kind == "generator":
        mlp = init_mlp([d, *hidden_layer_sizes, d], generator, device, dtype)
        mlp[-2].zero_()
        mlp[-1].zero_()
        return Model(kind, affine + mlp, d, 1)
    # normalizing_flow: lower-triangular affine (log-diagonal parameterised),
    # then ``n_layers`` couplings, each an MLP (d -> hidden -> 2d).
    diagonal = torch.log(torch.diagonal(cholesky).clamp_min(1e-6))
    strictly_lower = torch.tril(cholesky, diagonal=-1)
    parameters = [strictly_lower, diagonal, mean.clone()]
    for _ in range(n_layers):
        mlp = init_mlp([d, *hidden_layer_sizes, 2 * d], generator, device, dtype)
        mlp[-2].zero_()
        mlp[-1].zero_()
        parameters += mlp
    return Model(kind, parameters, d, n_layers)


def _coupling_masks(n_features: int, n_layers: int, device, dtype) -> list:
    """Alternating binary masks: each layer updates the features the last kept."""
    index = torch.arange(n_features, device=device)
    return [((index + layer) % 2).to(dtype) for layer in range(n_layers)]


def push_forward(
    model: Model, z: torch.Tensor, *, with_log_det: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``x = g(z)`` and, for normalizing flows, ``log |det dg/dz|`` per row."""
    if model.kind == "particles":
        raise ValueError("particles have no latent map")
    if model.kind == "generator":
        a, b, *mlp = model.parameters
        return z @ a.t() + b + mlp_forward(z, mlp), None
    strictly_lower, log_diagonal, shift, *couplings = model.parameters
    d = model.n_features
    lower = torch.tril(strictly_lower, diagonal=-1) + torch.diag(log_diagonal.exp())
    x = z
    log_det = z.new_zeros(z.shape[0])
    per_layer = len(couplings) // model.n_layers if model.n_layers else 0
    masks = _coupling_masks(d, model.n_layers, z.device, z.dtype)
    for layer, mask in enumerate(masks):
        mlp = couplings[layer * per_layer : (layer + 1) * per_layer]
        out = mlp_forward(x * mask, mlp)
        log_scale = _MAX_LOG_SCALE * torch.tanh(out[:, :d] / _MAX_LOG_SCALE)
        log_scale = log_scale * (1 - mask)
        translation = out[:, d:] * (1 - mask)
        x = x * mask + (1 - mask) * (x * log_scale.exp() + translation)
        log_det = log_det + log_scale.sum(dim=1)
    x = x @ lower.t() + shift
    log_det = log_det + log_diagonal.sum()
    return x, (log_det if with_log_det else None)


def draw(
    model: Model, n: int, generator: torch.Generator, *, with_log_prob: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` rows of the model and, for flows, their log-density ``log mu(x)``."""
    device, dtype = model.parameters[0].device, model.parameters[0].dtype
    z = torch.randn(
        n, model.n_features, generator=generator, device=device, dtype=dtype
    )
    x, log_det = push_forward(model, z, with_log_det=with_log_prob)
    if not with_log_prob:
        return x, None
    log_base = -0.5 * z.pow(2).sum(dim=1) - 0.5 * model.n_features * math.log(
        2 * math.pi
    )
    return x, log_base - log_det


# --------------------------------------------------------------------------
# The JKO scheme
# --------------------------------------------------------------------------


class JKOResult(NamedTuple):
    """What :func:`sliced_jko_flow` returns.

    Attributes
    ----------
    model : Model
        The last step's model (parameters detached).
    objective : Tensor of shape (n_steps,)
        ``F(mu_k)`` estimated at the end of each JKO step.
    step_distance : Tensor of shape (n_steps,)
        ``SW_2(mu_{k+1}, mu_k)`` at the end of each step.
    n_steps : int
        JKO steps run.
    non_finite_at : int or None
        First step whose objective was non-finite after the allowed rollbacks
        were spent, if any.
    interrupted : bool
        Whether Ctrl-C (``KeyboardInterrupt``) ended the loop; the result then
        holds the last completed iteration.
    recoveries : tuple of Recovery
        Rollbacks to the last finite state, each with a halved learning rate;
        see :class:`skflow._recovery.FiniteCheckpoint`.
    """

    model: Model
    objective: torch.Tensor
    step_distance: torch.Tensor
    n_steps: int
    non_finite_at: int | None
    interrupted: bool = False
    recoveries: tuple[Recovery, ...] = ()


Functional = Callable[
    [torch.Tensor, torch.Tensor | None, torch.Generator], torch.Tensor
]


def data_functional(
    data: torch.Tensor,
    *,
    n_projections: int,
    batch_size: int,
    entropy_weight: float = 0.0,
) -> Functional:
    """``F(mu) = 0.5 * SW_2^2(mu, data) + entropy_weight * E[log mu]``.

    The returned callable takes a batch ``x`` of the model, its log-density
    (``None`` for sample-based models, which then use the nearest-neighbour
    entropy estimate) and a generator for the data batch and directions.
    """

    def functional(x, log_prob, generator):
        if data.shape[0] > batch_size:
            index = torch.randint(
                data.shape[0], (batch_size,), generator=generator, device=data.device
            )
            batch = data[index]
        else:
            batch = data
        directions = random_directions(
            x.shape[1], n_projections, generator, x.device, x.dtype
        )
        value = 0.5 * sliced_wasserstein_squared(x, batch, directions)
        if entropy_weight > 0:
            neg_entropy = (
                log_prob.mean() if log_prob is not None else knn_neg_entropy(x)
            )
            value = value + entropy_weight * neg_entropy
        return value

    return functional


def density_functional(
    log_prob: Callable[[torch.Tensor], torch.Tensor],
) -> Functional:
    """``F(mu) = E_mu[V] + E_mu[log mu]``, i.e. ``KL(mu || target)`` up to a constant.

    ``V = -log_prob``; ``log_prob`` maps (n, d) tensors to (n,) tensors.
    """

    def functional(x, model_log_prob, generator):
        neg_entropy = (
            model_log_prob.mean()
            if model_log_prob is not None
            else (knn_neg_entropy(x))
        )
        return -log_prob(x).mean() + neg_entropy

    return functional


def sliced_jko_flow(
    model: Model,
    functional: Functional,
    *,
    generator: torch.Generator,
    step_size: float,
    max_iter: int,
    n_inner_steps: int,
    learning_rate: float,
    n_projections: int,
    batch_size: int,
    needs_log_prob: bool,
    check_every: int = 5,
    max_recoveries: int = MAX_RECOVERIES,
    callback: Callable[[int, float, float], None] | None = None,
) -> JKOResult:
    """Run ``max_iter`` JKO steps of size ``step_size`` (tau) on ``model``.

    Each step freezes the current model as ``mu_k`` and takes ``n_inner_steps``
    Adam steps on ``SW_2^2(mu, mu_k) / (2 tau) + F(mu)``. Every ``check_every``
    steps the objective is tested for finiteness; a failing window is rolled
    back to the last finite model and re-run with half the learning rate, at
    most ``max_recoveries`` times. For latent models both
    measures are drawn from the same latent batch (common random numbers lower
    the variance); particles are compared with their own frozen positions.
    """
    parameters = [p.detach().clone().requires_grad_(True) for p in model.parameters]
    model = model._replace(parameters=parameters)
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    device, dtype = parameters[0].device, parameters[0].dtype
    objective_trace = torch.empty(max_iter, device=device, dtype=dtype)
    distance_trace = torch.empty(max_iter, device=device, dtype=dtype)
    non_finite_at = None
    n_steps = 0
    d = model.n_features
    checkpoint = FiniteCheckpoint(
        parameters, [optimizer], max_recoveries=max_recoveries
    )
    checkpoint.save(0)

    interrupted = False
    try:
        while n_steps < max_iter:
            step = n_steps
            previous = model._replace(
                parameters=[p.detach().clone() for p in parameters]
            )
            for _ in range(n_inner_steps):
                if model.kind == "particles":
                    # Every particle moves at every step: they are the measure.
                    x, log_prob = parameters[0], None
                    anchor = previous.parameters[0]
                else:
                    z = torch.randn(
                        batch_size, d, generator=generator, device=device, dtype=dtype
                    )
                    x, log_det = push_forward(model, z, with_log_det=needs_log_prob)
                    with torch.no_grad():
                        anchor, _ = push_forward(previous, z)
                    log_prob = None
                    if needs_log_prob:
                        log_base = -0.5 * z.pow(2).sum(dim=1) - 0.5 * d * math.log(
                            2 * math.pi
                        )
                        log_prob = log_base - log_det
                directions = random_directions(
                    d, n_projections, generator, device, dtype
                )
                proximal = sliced_wasserstein_squared(x, anchor, directions)
                value = functional(x, log_prob, generator)
                loss = proximal / (2 * step_size) + value
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            objective_trace[step] = value.detach()
            distance_trace[step] = proximal.detach().clamp_min(0).sqrt()
            n_steps = step + 1
            if n_steps % check_every == 0 or n_steps == max_iter:
                window = objective_trace[max(0, n_steps - check_every) : n_steps]
                if not bool(torch.isfinite(window).all()):
                    bad = torch.nonzero(~torch.isfinite(window))
                    failed_at = max(0, n_steps - check_every) + int(bad[0])
                    if checkpoint.restore(failed_at) is None:
                        non_finite_at = failed_at
                        break
                    # Re-run the window from the last finite state.
                    n_steps = checkpoint.iteration
                    continue
                checkpoint.save(n_steps)
                if callback is not None:
                    callback(
                        n_steps,
                        float(objective_trace[step]),
                        float(distance_trace[step]),
                    )
    except KeyboardInterrupt:
        # Ctrl-C: keep what the completed iterations learned (nothing
        # learned yet: let the interrupt through).
        if n_steps == 0:
            raise
        interrupted = True

    final = model._replace(parameters=[p.detach() for p in parameters])
    return JKOResult(
        final,
        objective_trace[:n_steps],
        distance_trace[:n_steps],
        n_steps,
        non_finite_at,
        interrupted,
        tuple(checkpoint.recoveries),
    )
