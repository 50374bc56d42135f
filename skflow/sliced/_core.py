r"""JKO gradient flows in sliced-Wasserstein space, as tensor functions.

After Bonet, Courty, Septier and Drumetz, arXiv:2110.10972.

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
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .._gaussian import draw_gaussian
from .._loop import LoopOutcome, TrainingStep, first_false, run_loop
from .._nn import (
    init_mlp,
    init_residual_generator,
    mlp_forward,
    residual_generator_forward,
)
from .._recovery import MAX_RECOVERIES
from .._torch_utils import RandomStreams, adam, minibatch

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
        return Model(
            kind, [draw_gaussian(n_particles, mean, cholesky, generator)], d, 0
        )
    if kind == "generator":
        parameters = init_residual_generator(
            cholesky, mean, hidden_layer_sizes, generator
        )
        return Model(kind, parameters, d, 1)
    # normalizing_flow: lower-triangular affine (log-diagonal parameterised),
    # then ``n_layers`` couplings, each an MLP (d -> hidden -> 2d).
    diagonal = torch.log(torch.diagonal(cholesky).clamp_min(1e-6))
    strictly_lower = torch.tril(cholesky, diagonal=-1)
    parameters = [strictly_lower, diagonal, mean.clone()]
    for _ in range(n_layers):
        parameters += init_mlp(
            [d, *hidden_layer_sizes, 2 * d], generator, device, dtype, zero_output=True
        )
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
        return residual_generator_forward(z, model.parameters), None
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


def draw_particles(
    points: torch.Tensor, n: int, generator: torch.Generator
) -> torch.Tensor:
    """``n`` rows of a particle model: its points, then kernel draws around them.

    Up to ``len(points)`` rows are the points themselves, without replacement;
    beyond that, each extra row is a random point plus Gaussian noise with
    Scott's rule bandwidth per feature, the smoothing of a Gaussian kernel
    density estimate, so a large draw does not repeat the fitted points.
    """
    n_points, d = points.shape
    order = torch.randperm(n_points, generator=generator, device=points.device)
    chosen = points[order[: min(n, n_points)]]
    n_new = n - chosen.shape[0]
    if n_new == 0:
        return chosen
    bandwidth = points.std(dim=0) * n_points ** (-1.0 / (d + 4))
    index = torch.randint(n_points, (n_new,), generator=generator, device=points.device)
    noise = torch.randn(
        n_new, d, generator=generator, device=points.device, dtype=points.dtype
    )
    return torch.cat([chosen, points[index] + noise * bandwidth])


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
    loop : LoopOutcome
        JKO steps run (``loop.n_iter``), rollbacks, interruption; see
        :class:`skflow._loop.LoopOutcome`.
    """

    model: Model
    objective: torch.Tensor
    step_distance: torch.Tensor
    loop: LoopOutcome


Functional = Callable[[torch.Tensor, torch.Tensor | None, RandomStreams], torch.Tensor]


def data_functional(
    data: torch.Tensor,
    *,
    n_projections: int,
    batch_size: int,
    entropy_weight: float = 0.0,
    next_batch: Callable[[], torch.Tensor] | None = None,
) -> Functional:
    """``F(mu) = 0.5 * SW_2^2(mu, data) + entropy_weight * E[log mu]``.

    The returned callable takes a batch ``x`` of the model, its log-density
    (``None`` for sample-based models, which then use the nearest-neighbour
    entropy estimate) and the fit's :class:`~skflow._torch_utils.RandomStreams`
    (the data batch from ``batches``, the directions from ``noise``). With
    ``next_batch``, each data batch is ``next_batch()`` instead (rows streamed
    from outside, e.g. partition after partition of a dataset larger than
    memory), and ``data`` is not read.
    """

    def functional(x, log_prob, streams):
        if next_batch is None:
            batch = minibatch(data, batch_size, streams.batches)
        else:
            batch = next_batch()
        directions = random_directions(
            x.shape[1], n_projections, streams.noise, x.device, x.dtype
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

    def functional(x, model_log_prob, streams):
        neg_entropy = (
            model_log_prob.mean()
            if model_log_prob is not None
            else (knn_neg_entropy(x))
        )
        return -log_prob(x).mean() + neg_entropy

    return functional


@dataclass(eq=False, repr=False, kw_only=True)
class _JKOStep(TrainingStep):
    """One JKO step: Adam steps on ``SW_2^2(mu, mu_k) / (2 tau) + F(mu)``."""

    model: Model
    functional: Functional
    streams: RandomStreams
    step_size: float
    max_iter: int
    n_inner_steps: int
    learning_rate: float
    n_projections: int
    batch_size: int
    needs_log_prob: bool

    def __post_init__(self):
        parameters = [
            p.detach().clone().requires_grad_(True) for p in self.model.parameters
        ]
        self.model = self.model._replace(parameters=parameters)
        self.in_place = parameters
        self.optimizers = [adam(parameters, lr=self.learning_rate)]
        like = {"device": parameters[0].device, "dtype": parameters[0].dtype}
        self.objective = torch.empty(self.max_iter, **like)
        self.distance = torch.empty(self.max_iter, **like)

    def _draw(
        self, previous: Model
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """A batch ``x`` of ``mu``, its log-density and the anchor batch of ``mu_k``.

        Latent models push one latent batch through both measures (common
        random numbers lower the variance); particles are the measure itself,
        compared with their own frozen positions.
        """
        if self.model.kind == "particles":
            return self.model.parameters[0], None, previous.parameters[0]
        first, d = self.model.parameters[0], self.model.n_features
        z = torch.randn(
            self.batch_size,
            d,
            generator=self.streams.noise,
            device=first.device,
            dtype=first.dtype,
        )
        x, log_det = push_forward(self.model, z, with_log_det=self.needs_log_prob)
        with torch.no_grad():
            anchor, _ = push_forward(previous, z)
        log_prob = None
        if self.needs_log_prob:
            log_base = -0.5 * z.pow(2).sum(dim=1) - 0.5 * d * math.log(2 * math.pi)
            log_prob = log_base - log_det
        return x, log_prob, anchor

    def run(self, iteration: int) -> None:
        # mu_k, frozen for the whole step.
        previous = self.model._replace(
            parameters=[p.detach().clone() for p in self.model.parameters]
        )
        (optimizer,) = self.optimizers
        for _ in range(self.n_inner_steps):
            x, log_prob, anchor = self._draw(previous)
            directions = random_directions(
                self.model.n_features,
                self.n_projections,
                self.streams.noise,
                x.device,
                x.dtype,
            )
            proximal = sliced_wasserstein_squared(x, anchor, directions)
            value = self.functional(x, log_prob, self.streams)
            loss = proximal / (2 * self.step_size) + value
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        self.objective[iteration] = value.detach()
        self.distance[iteration] = proximal.detach().clamp_min(0).sqrt()

    def check(self, window: slice) -> tuple[torch.Tensor, torch.Tensor]:
        last = window.stop - 1
        finite = torch.isfinite(self.objective[window]).all()
        return finite, torch.stack([self.objective[last], self.distance[last]])

    def first_non_finite(self, window: slice) -> int:
        return first_false(torch.isfinite(self.objective[window]), default=0)


def sliced_jko_flow(
    model: Model,
    functional: Functional,
    *,
    streams: RandomStreams,
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
    most ``max_recoveries`` times (:func:`skflow._loop.run_loop`). For latent
    models both measures are drawn from the same latent batch (common random
    numbers lower the variance); particles are compared with their own frozen
    positions. ``callback(step, objective, step_distance)`` runs once per
    window.
    """
    step = _JKOStep(
        model=model,
        functional=functional,
        streams=streams,
        step_size=step_size,
        max_iter=max_iter,
        n_inner_steps=n_inner_steps,
        learning_rate=learning_rate,
        n_projections=n_projections,
        batch_size=batch_size,
        needs_log_prob=needs_log_prob,
    )
    loop = run_loop(
        step, check_every=check_every, max_recoveries=max_recoveries, callback=callback
    )
    parameters = [p.detach() for p in step.model.parameters]
    final = step.model._replace(parameters=parameters)
    return JKOResult(
        final, step.objective[: loop.n_iter], step.distance[: loop.n_iter], loop
    )
