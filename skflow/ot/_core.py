r"""Generators trained on the entropic OT cost to the data, as tensor functions.

After Houdard, Leclaire, Papadakis and Rabin, arXiv:2102.05542.

The data are ``nu = (1/M) sum_j delta_{y_j}`` and the cost is
``c(x, y) = |x - y|^2 / s`` with ``s`` the data's mean squared pairwise distance,
so ``reg`` (epsilon) is relative to the typical cost. For a dual vector
``psi`` in ``R^M`` the entropic c-transform is

.. math::

    \psi^{c,\varepsilon}(x) = -\varepsilon \log \frac{1}{M} \sum_j
        \exp\big((\psi_j - c(x, y_j)) / \varepsilon\big),

and ``OT_eps(mu, nu) = max_psi E_mu[psi^{c,eps}] + mean(psi)`` (the semi-dual).
Its gradient in ``x`` is the soft-barycentre formula of Houdard et al.,

.. math::

    \nabla_x \psi^{c,\varepsilon}(x) = \sum_j \chi_j(x) \nabla_x c(x, y_j)
        = \frac{2}{s} \Big(x - \sum_j \chi_j(x) y_j\Big), \qquad
    \chi(x) = \mathrm{softmax}_j\big((\psi_j - c(x, y_j)) / \varepsilon\big),

so a generator step pulls every ``g(z)`` toward its soft barycentre. The
per-row weights, c-transforms and barycentres are those of POT's
``ot.semidiscrete`` functions (the tests hold them equal), computed here by a
streaming log-sum-exp over chunks of atoms: POT's functions build the whole
``n x M`` score matrix, which at a million data rows is gigabytes per batch,
while the stream holds one bounded block. Also written here, for want of a
library that has them: the preconditioned stochastic dual ascent warm-started
between generator steps, and the generator itself. The minibatch entropic costs
(the debiasing term, the ``"sinkhorn"`` solver) are POT's.

Device and dtype follow the inputs; randomness comes from an explicit
``torch.Generator``; nothing is validated or printed here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import ot
import torch

from .._loop import LoopOutcome, TrainingStep, first_false, run_loop
from .._memorization import median_nearest_distance
from .._nn import init_residual_generator, residual_generator_forward
from .._recovery import MAX_RECOVERIES
from .._torch_utils import RandomStreams, adam, iter_chunks, minibatch

# Largest block of the (generated rows x data rows) matrix held at once by the
# semi-discrete functions: 2**22 entries (16 MiB in float32). Generated rows are
# taken at most _ROW_BLOCK at a time and the data in chunks that fill the block,
# so the memory of a dual or generator step is bounded whatever the batch and the
# number of data rows ``M``; the time is linear in ``M``.
_BLOCK_ENTRIES = 2**22
_ROW_BLOCK = 4096

# Sinkhorn iterations (and tolerance on the marginals) for the minibatch problems
# solved through POT: the debiasing term and the "sinkhorn" solver.
_SINKHORN_MAX_ITER = 100
_SINKHORN_TOL = 1e-4


# --------------------------------------------------------------------------
# Cost and semi-discrete transforms
# --------------------------------------------------------------------------


def cost_scale(data: torch.Tensor) -> torch.Tensor:
    """Mean squared distance between two data rows, ``2 * sum_k Var(y_k)``.

    Closed form (no ``M x M`` matrix): ``E|y - y'|^2 = 2 E|y - E y|^2``.
    """
    centered = data - data.mean(dim=0)
    return 2.0 * centered.pow(2).sum(dim=1).mean()


def _blocks(n_rows: int, n_data: int):
    """``(row block, data chunk)`` slice pairs covering the ``n_rows x n_data``
    score matrix, each at most ``_BLOCK_ENTRIES`` entries, row block outermost."""
    row_block = min(max(n_rows, 1), _ROW_BLOCK)
    chunk = max(1, _BLOCK_ENTRIES // row_block)
    for rows in iter_chunks(n_rows, row_block):
        yield rows, list(iter_chunks(n_data, chunk))


def _scores(
    x: torch.Tensor,
    data: torch.Tensor,
    psi: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
) -> torch.Tensor:
    """``(psi_j - |x_i - y_j|^2 / scale) / reg`` plus ``|x_i|^2 / (scale reg)``.

    The added term is constant along a row, so softmaxes over the atoms do not
    see it; dropping it leaves one fused matrix product (``addmm``) per block,
    with no elementwise pass over the block before the exponential. Callers
    that need the log-normaliser itself subtract it (:func:`_row_offset`).
    """
    atom_bias = (psi - data.pow(2).sum(dim=1) / scale) / reg
    return torch.addmm(atom_bias, x * (2.0 / (scale * reg)), data.t())


def _row_offset(x: torch.Tensor, reg: float, scale: torch.Tensor) -> torch.Tensor:
    """The per-row term :func:`_scores` leaves out, ``|x_i|^2 / (scale reg)``."""
    return x.pow(2).sum(dim=1) / (scale * reg)


def _softmax_pass(x, data, psi, reg, scale, *, barycentre: bool):
    """One streaming pass over the atoms for every row of ``x``.

    Returns ``log sum_j exp(score_ij)`` per row, for the scores of
    :func:`_scores` (shifted by :func:`_row_offset`), and, with ``barycentre``,
    the soft barycentres ``sum_j softmax_j(score_i) y_j``; the softmax is
    accumulated chunk by chunk with a running maximum (the usual online
    log-sum-exp), so no row of the ``n x M`` matrix is ever held whole.
    """
    log_norms, centres = [], []
    for rows, chunks in _blocks(x.shape[0], data.shape[0]):
        xb = x[rows]
        running_max = xb.new_full((xb.shape[0],), -math.inf)
        total = xb.new_zeros(xb.shape[0])
        weighted = xb.new_zeros(xb.shape) if barycentre else None
        for atoms in chunks:
            score = _scores(xb, data[atoms], psi[atoms], reg, scale)
            new_max = torch.maximum(running_max, score.max(dim=1).values)
            rescale = torch.exp(running_max - new_max)
            weights = torch.exp(score - new_max[:, None])
            total = total * rescale + weights.sum(dim=1)
            if barycentre:
                weighted = weighted * rescale[:, None] + weights @ data[atoms]
            running_max = new_max
        log_norms.append(running_max + torch.log(total))
        if barycentre:
            centres.append(weighted / total[:, None])
    return torch.cat(log_norms), (torch.cat(centres) if barycentre else None)


def c_transform(
    x: torch.Tensor,
    data: torch.Tensor,
    psi: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
) -> torch.Tensor:
    r""":math:`\psi^{c,\varepsilon}(x) = -\varepsilon \log \frac{1}{M} \sum_j
    e^{(\psi_j - c(x, y_j)) / \varepsilon}` per row of ``x``, shape ``(n,)``.

    What POT's ``semidiscrete_c_transform`` computes, streamed over chunks of
    atoms; differentiable in ``x`` and ``psi``.
    """
    log_norm, _ = _softmax_pass(x, data, psi, reg, scale, barycentre=False)
    log_norm = log_norm - _row_offset(x, reg, scale)
    return -reg * (log_norm - math.log(data.shape[0]))


def soft_barycentre(
    x: torch.Tensor,
    data: torch.Tensor,
    psi: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
) -> torch.Tensor:
    r"""The soft barycentres :math:`\sum_j \chi_j(x) y_j`, shape ``x.shape``.

    What POT's ``semidiscrete_ot_map`` (the entropic barycentric projection)
    computes, streamed over chunks of atoms.
    """
    _, centres = _softmax_pass(x, data, psi, reg, scale, barycentre=True)
    return centres


def c_transform_gradient(
    x: torch.Tensor,
    data: torch.Tensor,
    psi: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
) -> torch.Tensor:
    r"""Houdard et al.'s formula :math:`\nabla_x \psi^{c,\varepsilon}(x)
    = \frac{2}{s}(x - \sum_j \chi_j(x) y_j)` (no autograd graph)."""
    with torch.no_grad():
        return (2.0 / scale) * (x - soft_barycentre(x, data, psi, reg, scale))


def semi_dual_and_gradient(
    x: torch.Tensor,
    data: torch.Tensor,
    psi: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`semi_dual` and :func:`c_transform_gradient` from one pass."""
    with torch.no_grad():
        log_norm, centres = _softmax_pass(x, data, psi, reg, scale, barycentre=True)
        log_norm = log_norm - _row_offset(x, reg, scale)
        value = -reg * (log_norm - math.log(data.shape[0])).mean() + psi.mean()
        return value, (2.0 / scale) * (x - centres)


def atom_marginal(
    x: torch.Tensor,
    data: torch.Tensor,
    psi: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
) -> torch.Tensor:
    r""":math:`\frac{1}{n}\sum_i \chi_j(x_i)`: the mass each data row receives.

    What POT's ``semidiscrete_atom_weights`` gives, summed over rows: a first
    pass finds each row's normaliser, a second sums the weights chunk by chunk.
    """
    log_norm, _ = _softmax_pass(x, data, psi, reg, scale, barycentre=False)
    total = torch.zeros_like(psi)
    for rows, chunks in _blocks(x.shape[0], data.shape[0]):
        for atoms in chunks:
            score = _scores(x[rows], data[atoms], psi[atoms], reg, scale)
            total[atoms] += torch.exp(score - log_norm[rows, None]).sum(dim=0)
    return total / x.shape[0]


def semi_dual(
    x: torch.Tensor,
    data: torch.Tensor,
    psi: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
) -> torch.Tensor:
    r"""Monte Carlo semi-dual
    :math:`E_x[\psi^{c,\varepsilon}(x)] + \mathrm{mean}(\psi)`."""
    return c_transform(x, data, psi, reg, scale).mean() + psi.mean()


def dual_ascent_step(
    psi: torch.Tensor,
    x: torch.Tensor,
    data: torch.Tensor,
    reg: float,
    scale: torch.Tensor,
    step_size: float,
) -> torch.Tensor:
    r"""One preconditioned stochastic ascent step on the semi-dual.

    The semi-dual gradient is :math:`1/M - E_x[\chi_j(x)]`. Near the optimum
    its Hessian is close to diagonal with entries :math:`-1/(M\varepsilon)`
    (each atom holds mass ``1/M`` and ``d chi_j / d psi_j = chi_j (1 - chi_j) /
    eps``), so the diagonal-Newton step is

    .. math::

        \psi_j \leftarrow \psi_j + \eta\, \varepsilon\,
            \big(1 - M\, \hat E_x[\chi_j(x)]\big),

    which is scale-free in ``M`` and ``eps`` (POT's ``solve_semidiscrete`` uses
    the same gradient with a ``sqrt(M * batch)`` step). ``psi`` is recentred to
    mean zero: the semi-dual is invariant to adding a constant.
    """
    mass = atom_marginal(x, data, psi, reg, scale)
    psi = psi + step_size * reg * (1.0 - data.shape[0] * mass)
    return psi - psi.mean()


def entropic_cost(
    x: torch.Tensor, y: torch.Tensor, reg: float, scale: torch.Tensor
) -> torch.Tensor:
    r"""Minibatch entropic OT cost :math:`OT_\varepsilon(x, y)` through POT.

    ``ot.solve_sample`` (log-domain Sinkhorn, uniform weights) with
    ``grad="envelope"``: the gradient in ``x`` and ``y`` is
    :math:`\sum_{ij} \pi_{ij} \nabla c(x_i, y_j)` with the plan held fixed
    (Danskin), without back-propagating through the iterations.
    """
    with warnings.catch_warnings():
        # A minibatch plan within 1e-4 of its marginals is plenty for a
        # stochastic gradient; POT's "did not converge" note is not for users.
        warnings.simplefilter("ignore", UserWarning)
        result = ot.solve_sample(
            x,
            y,
            reg=reg * scale,
            metric="sqeuclidean",
            max_iter=_SINKHORN_MAX_ITER,
            tol=_SINKHORN_TOL,
            grad="envelope",
        )
    return result.value / scale


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------


class Generator(NamedTuple):
    r"""``g(z) = A z + b + MLP(z)``, ``z ~ N(0, I_k)``, as tensors.

    ``parameters`` is ``[A, b, W_0, b_0, ...]`` with ``A`` of shape
    ``(n_features, latent_dim)``.
    """

    parameters: list[torch.Tensor]
    latent_dim: int


def init_generator(
    mean: torch.Tensor,
    covariance: torch.Tensor,
    latent_dim: int,
    hidden_layer_sizes: tuple[int, ...],
    generator: torch.Generator,
    cholesky: torch.Tensor | None = None,
) -> Generator:
    """A generator whose initial law is the Gaussian ``N(mean, cov)`` (rank-k).

    With ``latent_dim >= n_features``, ``A`` is a Cholesky factor of ``cov``
    (``cholesky`` when given) and extra columns are zero, so ``A z + b`` is
    that Gaussian exactly; with fewer latent dimensions, ``A`` holds the
    ``latent_dim`` leading principal axes scaled by their standard deviations,
    the best rank-``k`` Gaussian approximation. The MLP's last layer is
    zeroed: training starts exactly from that Gaussian.
    """
    d = mean.shape[0]
    if latent_dim >= d:
        # Exact either way; a Cholesky factor costs a fraction of an
        # eigendecomposition, which takes minutes for 10,000 columns.
        axes = torch.linalg.cholesky(covariance) if cholesky is None else cholesky
    else:
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        order = torch.argsort(eigenvalues, descending=True)[:latent_dim]
        axes = eigenvectors[:, order] * eigenvalues[order].clamp_min(0).sqrt()
    a = torch.zeros(d, latent_dim, device=mean.device, dtype=mean.dtype)
    a[:, : axes.shape[1]] = axes
    return Generator(
        init_residual_generator(a, mean, hidden_layer_sizes, generator), latent_dim
    )


def push_forward(model: Generator, z: torch.Tensor) -> torch.Tensor:
    """``g(z)`` for latent rows ``z`` of shape ``(n, latent_dim)``."""
    return residual_generator_forward(z, model.parameters)


def draw(model: Generator, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` generated rows."""
    a = model.parameters[0]
    z = torch.randn(
        n, model.latent_dim, generator=generator, device=a.device, dtype=a.dtype
    )
    return push_forward(model, z)


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


class EntropicOTResult(NamedTuple):
    """What :func:`entropic_ot_fit` returns.

    Attributes
    ----------
    model : Generator
        The generator (parameters detached).
    psi : Tensor of shape (M,)
        The averaged dual potential over the data rows (mean zero); zeros for
        the ``"sinkhorn"`` solver, which has none.
    semi_dual : Tensor of shape (n_iter,)
        Per iteration, the Monte Carlo semi-dual (``"semi-discrete"``) or the
        minibatch entropic cost to a data batch (``"sinkhorn"``): an estimate of
        ``OT_eps(mu_theta, nu)``.
    generator_loss : Tensor of shape (n_iter,)
        The loss the generator step descended: that estimate minus the
        debiasing term ``0.5 * debias * OT_eps(mu_theta, mu_theta)``.
    loop : LoopOutcome
        Generator steps taken, ``loop.stop_reason`` (``"max_iter"`` or
        ``"memorization"``), rollbacks (each halving the generator's learning
        rate and the dual step) and interruption; see
        :class:`skflow._loop.LoopOutcome`.
    """

    model: Generator
    psi: torch.Tensor
    semi_dual: torch.Tensor
    generator_loss: torch.Tensor
    loop: LoopOutcome


@dataclass(eq=False, repr=False, kw_only=True)
class _EntropicStep(TrainingStep):
    """One iteration: dual ascent on ``psi`` (semi-discrete), one generator step."""

    model: Generator
    data: torch.Tensor
    streams: RandomStreams
    solver: str
    reg: float
    debias: float
    max_iter: int
    n_dual_steps: int
    n_warmup_dual_steps: int
    dual_step_size: float
    learning_rate: float
    batch_size: int
    memorization_reference: tuple[torch.Tensor, torch.Tensor] | None
    psi_init: torch.Tensor | None
    next_batch: Callable[[], torch.Tensor] | None = None

    def __post_init__(self):
        self.data = self.data.detach()
        parameters = [
            p.detach().clone().requires_grad_(True) for p in self.model.parameters
        ]
        self.model = Generator(parameters, self.model.latent_dim)
        optimizer = adam(parameters, lr=self.learning_rate)
        # Cosine decay of the generator's step to zero at max_iter: the
        # stochastic losses keep the iterate moving at a constant step; decaying
        # it lets the last iterate settle instead of stopping at a random point
        # of that noise.
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=self.max_iter
        )
        self.in_place = parameters
        self.optimizers, self.schedulers = [optimizer], [schedule]
        like = {"device": self.data.device, "dtype": self.data.dtype}
        self.scale = cost_scale(self.data)
        self.psi = (
            torch.zeros(self.data.shape[0], **like)
            if self.psi_init is None
            else self.psi_init.clone()
        )
        self.psi_bar = self.psi
        self.semi_dual_trace = torch.zeros(self.max_iter, **like)
        self.loss_trace = torch.zeros(self.max_iter, **like)

    def _dual_ascent(self, iteration: int) -> torch.Tensor:
        """Warm-started ascent steps on ``psi``; the average of the iterates."""
        n_steps = self.n_warmup_dual_steps if iteration == 0 else self.n_dual_steps
        total = torch.zeros_like(self.psi)
        with torch.no_grad():
            for _ in range(n_steps):
                x = draw(self.model, self.batch_size, self.streams.noise)
                self.psi = dual_ascent_step(
                    self.psi,
                    x,
                    self.data,
                    self.reg,
                    self.scale,
                    # Rollbacks halve this step with the learning rate.
                    self.dual_step_size * self.step_factor,
                )
                total += self.psi
        return total / n_steps

    def run(self, iteration: int) -> None:
        if self.solver == "semi-discrete":
            self.psi_bar = self._dual_ascent(iteration)
        x = draw(self.model, 2 * self.batch_size, self.streams.noise)
        if self.solver == "semi-discrete":
            value, gradient = semi_dual_and_gradient(
                x, self.data, self.psi_bar, self.reg, self.scale
            )
            # Surrogate whose x-gradient is the per-row mean of the formula.
            data_term = (x * gradient).sum() / x.shape[0]
        else:
            batch = (
                minibatch(self.data, x.shape[0], self.streams.batches)
                if self.next_batch is None
                else self.next_batch()
            )
            data_term = entropic_cost(x, batch, self.reg, self.scale)
            value = data_term.detach()
        loss = data_term
        self_term = None
        if self.debias:
            half = self.batch_size
            self_term = self.debias * entropic_cost(
                x[:half], x[half:], self.reg, self.scale
            )
            loss = loss - 0.5 * self_term
        (optimizer,), (schedule,) = self.optimizers, self.schedulers
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        self.semi_dual_trace[iteration] = value
        self.loss_trace[iteration] = (
            value - 0.5 * self_term.detach() if self_term is not None else value
        )

    def check(self, window: slice) -> tuple[torch.Tensor, torch.Tensor]:
        last = window.stop - 1
        finite = (
            torch.isfinite(self.semi_dual_trace[window]).all()
            & torch.isfinite(self.loss_trace[window]).all()
            & torch.isfinite(self.psi).all()
        )
        return finite, torch.stack([self.semi_dual_trace[last], self.loss_trace[last]])

    def first_non_finite(self, window: slice) -> int:
        finite = torch.isfinite(self.semi_dual_trace[window]) & torch.isfinite(
            self.loss_trace[window]
        )
        # Finite losses but a non-finite potential: blame the window's last step.
        return first_false(finite, default=window.stop - window.start - 1)

    def reassigned(self) -> dict[str, object]:
        return {"psi": self.psi, "psi_bar": self.psi_bar}

    def stop(self, n_iter: int, values: list[float]) -> str | None:
        if self.memorization_reference is None:
            return None
        rows, spacing = self.memorization_reference
        with torch.no_grad():
            probe = draw(self.model, min(2048, 4 * rows.shape[0]), self.streams.noise)
            nearest = median_nearest_distance(probe, rows)
        return "memorization" if bool(nearest <= spacing) else None


def entropic_ot_fit(
    model: Generator,
    data: torch.Tensor,
    *,
    streams: RandomStreams,
    solver: str = "semi-discrete",
    reg: float = 0.05,
    debias: float = 1.0,
    max_iter: int = 300,
    n_dual_steps: int = 10,
    n_warmup_dual_steps: int | None = None,
    dual_step_size: float = 0.5,
    learning_rate: float = 1e-3,
    batch_size: int = 256,
    check_every: int = 10,
    memorization_reference: tuple[torch.Tensor, torch.Tensor] | None = None,
    psi_init: torch.Tensor | None = None,
    next_batch: Callable[[], torch.Tensor] | None = None,
    max_recoveries: int = MAX_RECOVERIES,
    callback: Callable[[int, float, float], None] | None = None,
) -> EntropicOTResult:
    r"""Train ``model`` to minimise the (debiased) entropic OT cost to ``data``.

    Each iteration:

    1. ``"semi-discrete"``: ``n_dual_steps`` preconditioned stochastic ascent
       steps on the semi-dual (:func:`dual_ascent_step`) with fresh latent
       draws, warm-started from the last iterate; the generator step uses the
       average of those iterates (averaging cancels most of the minibatch
       noise). The first iteration runs ``n_warmup_dual_steps`` instead; by
       default ten times ``n_dual_steps`` from a zero potential, and
       ``n_dual_steps`` when continuing from ``psi_init`` (the potential of a
       fit on the same rows is already near the optimum).
    2. One Adam step on the generator with ``psi`` frozen, descending

       .. math::

           E_z[\psi^{c,\varepsilon}(g(z))]
           - \tfrac{\lambda}2 OT_\varepsilon(g(z_A), g(z_B)),

       whose first term's gradient is the soft-barycentre formula (applied as
       a fixed per-row gradient, so no ``n x M`` graph is kept) and whose
       second term, weighted by ``lambda = debias``, is the minibatch entropic
       cost between two independent generated halves (POT, envelope gradient).
       At ``debias=1`` they are the Sinkhorn divergence ``S_eps = OT_eps(mu,
       nu) - OT_eps(mu, mu)/2 - OT_eps(nu, nu)/2`` up to a constant: its
       minimiser is ``nu`` itself, while the biased cost's (``debias=0``)
       minimiser is a shrunk copy of ``nu``; weights in between shrink less.
       ``"sinkhorn"`` replaces the first term by the minibatch
       ``OT_eps(g(z), y_batch)`` through POT, debiased the same way. With
       ``next_batch`` (``"sinkhorn"`` only), ``y_batch`` is its next
       ``2 * batch_size`` rows, streamed from outside memory, and ``data``
       only sets the cost scale and the memorisation reference.

    Every ``check_every`` iterations the losses are synchronised to the host:
    the callback runs, a non-finite loss stops the loop, and with a
    ``memorization_reference`` ``(rows, spacing)`` the loop stops once the
    median distance from generated rows to their nearest training row falls to
    the rows' own nearest-neighbour spacing (the generator has started to copy
    rows; the same rule as the particle flow). A window with non-finite values
    is rolled back to the last finite state (generator, Adam moments, schedule
    and dual potential) and re-run with half the learning rate and dual step,
    at most ``max_recoveries`` times (:func:`skflow._loop.run_loop`).
    """
    if n_warmup_dual_steps is None:
        n_warmup_dual_steps = (10 if psi_init is None else 1) * n_dual_steps
    step = _EntropicStep(
        model=model,
        data=data,
        streams=streams,
        solver=solver,
        reg=reg,
        debias=debias,
        max_iter=max_iter,
        n_dual_steps=n_dual_steps,
        n_warmup_dual_steps=n_warmup_dual_steps,
        dual_step_size=dual_step_size,
        learning_rate=learning_rate,
        batch_size=batch_size,
        memorization_reference=memorization_reference,
        psi_init=psi_init,
        next_batch=next_batch,
    )
    loop = run_loop(
        step, check_every=check_every, max_recoveries=max_recoveries, callback=callback
    )
    return EntropicOTResult(
        model=Generator([p.detach() for p in step.in_place], model.latent_dim),
        psi=step.psi_bar.detach(),
        semi_dual=step.semi_dual_trace[: loop.n_iter],
        generator_loss=step.loss_trace[: loop.n_iter],
        loop=loop,
    )
