"""EntropicOTGenerator: the estimator shell around ``_core``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch

from .._base import (
    LEARNING_RATE_CONSTRAINT,
    MAX_INNER_STEPS,
    BaseSampler,
    check_hidden_layer_sizes,
)
from .._compat import Interval, StrOptions
from .._conditional import latent_conditional_draw
from .._docstrings import fill_sampler_docstring
from .._gaussian import gaussian_start
from .._memorization import memorization_reference
from .._progress_bars import sample_chunks
from .._streaming import SUBSAMPLE_HINT, StreamingFitMixin
from .._torch_utils import (
    draw_seed,
    make_streams,
    to_numpy,
    to_tensor,
)
from .._validation import check_memory, trace_need, training_bytes
from ..privacy import DifferentialPrivacy
from ._core import (
    Generator,
    cost_scale,
    draw,
    entropic_ot_fit,
    init_generator,
    push_forward,
)

SOLVERS = ("semi-discrete", "sinkhorn")

# solver="auto" keeps the semi-discrete dual up to this many training rows.
# Each of its dual steps visits every row (time linear in the rows; about half
# a second per generator step at 20,000 rows on one CPU core with the defaults),
# while the minibatch Sinkhorn solver costs the same at any size.
AUTO_SEMI_DISCRETE_MAX_ROWS = 20_000

# Stop once the median distance from generated rows to their nearest training
# row falls below this fraction of the rows' own nearest-neighbour spacing.
# Fresh rows of the data distribution sit at a ratio of about 1 (held-out rows
# of wine and breast_cancer: 1.02 and 1.00), so a threshold of 1 would stop a
# good generator at random; copying drives the ratio toward 0.
_MEMORIZATION_RATIO = 0.8


@fill_sampler_docstring
class EntropicOTGenerator(StreamingFitMixin, BaseSampler):
    r"""Generator network trained on the entropic optimal transport cost.

    A network ``g(z) = A z + b + MLP(z)`` of a Gaussian latent ``z ~ N(0,
    I_k)`` is trained to minimise the entropic OT cost between its law and the
    training rows, through the semi-discrete dual of Houdard et al. [1]_: a
    dual weight ``psi_j`` per training row, updated by stochastic ascent with
    fresh latent draws, then a generator step that pulls every ``g(z)`` toward
    its soft barycentre of the rows. ``solver="sinkhorn"`` trains the same
    generator on minibatch Sinkhorn costs through POT instead, at a cost per
    step that does not grow with the rows; ``"auto"`` picks it for large tables.

    Read more in the :ref:`User Guide <entropic_ot_generator>`.

    Parameters
    ----------
    solver : {"auto", "semi-discrete", "sinkhorn"}, default="auto"
        ``"semi-discrete"``: the dual ``psi`` over all training rows, updated by
        ``n_dual_steps`` preconditioned stochastic ascent steps [3]_ per
        generator step, as in [1]_; each step's time is linear in the number of
        rows.
        ``"sinkhorn"``: the entropic cost between a generated batch and a batch
        of rows, solved by POT's log-domain Sinkhorn at each step (Genevay et
        al. [2]_); no dual is kept and a step costs the same at any size.
        ``"auto"``: ``"semi-discrete"`` up to 20,000 training rows,
        ``"sinkhorn"`` above. The choice made is ``solver_``.

    reg : float, default=0.05
        Entropic regularisation ``epsilon``, relative to the cost scale: the
        cost is ``|x - y|^2 / s`` with ``s`` the mean squared distance between
        two (standardised) training rows, so ``reg=0.05`` blurs at about
        ``sqrt(0.05 * s / 2)`` standard units. Must be positive.

    debias : bool or float in [0, 1], default=True
        Weight ``lambda`` of the debiasing term: the generator descends
        ``OT_eps(mu, data) - lambda * OT_eps(mu, mu) / 2`` (the second term
        between two independent generated batches). ``True`` (``1``) is the
        Sinkhorn divergence, whose minimiser is the data distribution.
        ``False`` (``0``) is the biased cost, whose minimiser is a shrunk copy
        of the data: its spread falls as training goes on, fastest along
        low-variance directions. A weight in between shrinks less:
        ``reg=0.1, debias=0.8`` pulls each class toward its dense region while
        keeping most of the spread a classifier needs (see the user guide's
        augmentation page).

    latent_dim : int or "auto", default="auto"
        Dimension ``k`` of the latent Gaussian; ``"auto"`` uses the number of
        (non-constant) features. Must be positive.

    hidden_layer_sizes : tuple of int, default=(64, 64)
        Hidden widths of the generator's MLP (SiLU activations).

    max_iter : int, default=500
        Generator steps. The generator's learning rate decays to zero along a
        cosine schedule over these steps.

    n_dual_steps : int, default=10
        Stochastic ascent steps on ``psi`` per generator step
        (``"semi-discrete"`` only); the first generator step is preceded by ten
        times as many. At most 10,000.

    dual_step_size : float, default=0.5
        Step of the diagonally preconditioned dual ascent, as a fraction of the
        Newton step (``"semi-discrete"`` only).

    learning_rate : float, default=3e-3
        Initial Adam learning rate of the generator, in (0, 10].

    batch_size : int, default=256
        Latent draws per dual step and per half of a generator step (a
        generator step draws two batches: the debiasing term compares them).
        The ``"sinkhorn"`` solver also draws this many training rows per step.

    privacy : None, default=None
        Not available for this family, which raises ValueError when it
        is set: the semi-discrete dual keeps one weight per training
        row, and the Sinkhorn loss couples every row of a batch
        through the transport plan. LipschitzParticleSampler and
        ProximalMFGFlow take a budget; see :ref:`privacy`.

    {sampler_parameters}

    Attributes
    ----------
    solver_ : {"semi-discrete", "sinkhorn"}
        The solver used (``"auto"`` resolved; a ``warm_start`` continuation
        keeps the first fit's).

    dual_potential_ : ndarray of shape (n_samples_fit,) or None
        The learned dual weights ``psi`` over the training rows (mean zero, in
        cost units), averaged over the last dual steps; ``None`` for
        ``solver="sinkhorn"``.

    latent_dim_ : int
        The latent dimension used (``"auto"`` resolved).

    cost_scale_ : float
        The scale ``s`` of the cost ``|x - y|^2 / s``, in the standardised
        feature space.

    n_iter_ : int
        Generator steps taken.

    history_ : dict of list of float
        Per generator step: ``"semi_dual"`` (the Monte Carlo semi-dual, an
        estimate of ``OT_eps(mu_theta, data)``; for ``"sinkhorn"`` the
        minibatch cost) and ``"generator_loss"`` (that estimate minus the
        weighted debiasing term).

    stop_reason_ : {"max_iter", "memorization", "interrupted"}
        Why training stopped: the budget ran out, the median distance from
        generated rows to their nearest training row fell below 0.8 times the
        training rows' median nearest-neighbour spacing (checked every 10
        steps): the generator started copying rows, or Ctrl-C ended the fit
        (the last completed iteration is kept, with a warning).

    {sampler_attributes}

    See Also
    --------
    SlicedWassersteinFlow : The same generator trained by a sliced JKO flow.
    LipschitzParticleSampler : Particle flow of a Lipschitz-regularised
        divergence.

    Notes
    -----
    With data ``nu = (1/M) sum_j delta_{y_j}`` and ``c(x, y) = |x - y|^2 / s``,
    the semi-dual is

    .. math::

        OT_\varepsilon(\mu, \nu) = \max_{\psi \in \mathbb{R}^M}
            E_{x \sim \mu}\big[\psi^{c,\varepsilon}(x)\big] + \frac1M\sum_j\psi_j,
        \quad
        \psi^{c,\varepsilon}(x) = -\varepsilon \log \frac1M \sum_j
            e^{(\psi_j - c(x, y_j))/\varepsilon},

    and for ``epsilon > 0`` its gradient with respect to the generator exists
    and equals [1]_ ``E_z[J_theta g(z)^T nabla_x
    psi^{c,eps}(g(z))]`` with ``nabla_x psi^{c,eps}(x) = (2/s)(x - sum_j
    chi_j(x) y_j)``, ``chi = softmax((psi - c(x, .))/eps)``. Each dual step
    costs ``O(batch_size * M * d)``, streamed over blocks of at most 2**22
    entries, so memory is ``O(M)`` beyond the batch whatever the number of
    rows. ``sample(n)`` is one pass of ``n`` latent draws through the network.

    References
    ----------
    .. [1] A. Houdard, A. Leclaire, N. Papadakis and J. Rabin, "On the
       existence of optimal transport gradient for learning generative
       models", preprint, 2021. arXiv:2102.05542.
    .. [2] A. Genevay, G. Peyre and M. Cuturi, "Learning generative models
       with Sinkhorn divergences", AISTATS 2018. arXiv:1706.00292.
    .. [3] A. Genevay, M. Cuturi, G. Peyre and F. Bach, "Stochastic
       optimization for large-scale optimal transport", NeurIPS 2016.
       arXiv:1605.08527.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import EntropicOTGenerator
    >>> X, _ = load_wine(return_X_y=True)
    >>> model = EntropicOTGenerator(max_iter=5, random_state=0).fit(X)
    >>> model.sample(4).shape
    (4, 13)
    >>> model.dual_potential_.shape
    (178,)
    """

    _parameter_constraints: dict = {
        "privacy": [
            DifferentialPrivacy,
            Interval(Real, 0.0, None, closed="neither"),
            None,
        ],
        **BaseSampler._parameter_constraints,
        "solver": [StrOptions({"auto", *SOLVERS})],
        "reg": [Interval(Real, 0.0, None, closed="neither")],
        "debias": ["boolean", Interval(Real, 0.0, 1.0, closed="both")],
        "latent_dim": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "hidden_layer_sizes": [tuple, list],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_dual_steps": [Interval(Integral, 1, MAX_INNER_STEPS, closed="both")],
        "dual_step_size": [Interval(Real, 0.0, None, closed="neither")],
        "learning_rate": LEARNING_RATE_CONSTRAINT,
        "batch_size": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        *,
        solver="auto",
        reg=0.05,
        debias=True,
        latent_dim="auto",
        hidden_layer_sizes=(64, 64),
        max_iter=500,
        n_dual_steps=10,
        dual_step_size=0.5,
        learning_rate=3e-3,
        batch_size=256,
        privacy=None,
        warm_start=False,
        device="auto",
        n_jobs=None,
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.solver = solver
        self.reg = reg
        self.debias = debias
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.max_iter = max_iter
        self.n_dual_steps = n_dual_steps
        self.dual_step_size = dual_step_size
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.privacy = privacy
        self.warm_start = warm_start
        self.device = device
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- fitting
    def _check_memory(self, data, latent_dim, hidden) -> None:
        """Refuse sizes that cannot fit before the first allocation."""
        itemsize = data.element_size()
        n_features = data.shape[1]
        widths = (latent_dim, *hidden, n_features)
        # Each step pushes 2 * batch_size noise rows through the generator.
        rows = 2 * int(self.batch_size)
        weights, batch = training_bytes(widths, rows, itemsize)
        check_memory(
            f"{type(self).__name__}.fit",
            {
                f"the generator of hidden_layer_sizes={self.hidden_layer_sizes}": (
                    weights,
                    "use narrower layers, e.g. hidden_layer_sizes=(64, 64).",
                ),
                f"latent_dim={self.latent_dim}": (
                    4 * latent_dim * (n_features + 1) * itemsize,
                    "lower latent_dim, or use latent_dim='auto'.",
                ),
                f"the activations of batches of {rows} rows through layers {widths}": (
                    batch,
                    "lower batch_size (e.g. 256), latent_dim or hidden_layer_sizes.",
                ),
                # Two traces of one number per iteration.
                **trace_need(self.max_iter, 2, itemsize),
            },
            device=data.device,
        )

    def _stream_batch_rows(self) -> int:
        # Each generator step compares 2 * batch_size generated rows with as
        # many data rows.
        return 2 * int(self.batch_size)

    def _check_streamable(self) -> None:
        super()._check_streamable()
        if self.solver == "semi-discrete":
            raise ValueError(
                "EntropicOTGenerator(solver='semi-discrete') keeps one dual weight "
                "per training row and cannot stream them; use solver='sinkhorn' "
                "(or 'auto', which streams with it), or " + SUBSAMPLE_HINT
            )

    def _fit_scaled(
        self, data: torch.Tensor, rng: np.random.RandomState, next_batch=None
    ) -> None:
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        n_features = data.shape[1]
        latent_dim = n_features if self.latent_dim == "auto" else int(self.latent_dim)
        if self._warm_tensors is None:
            self._check_memory(data, latent_dim, hidden)
        else:
            self._check_trace_memory(2, data)
        streams = make_streams(draw_seed(rng), data.device)
        warm = self._warm_tensors
        psi_init = None
        solver = self.solver
        if next_batch is not None:
            # Streamed rows: only the minibatch solver reads data in batches.
            solver = "sinkhorn"
        elif solver == "auto":
            solver = (
                "semi-discrete"
                if data.shape[0] <= AUTO_SEMI_DISCRETE_MAX_ROWS
                else "sinkhorn"
            )
        if warm is not None:
            solver = self.solver_
            # Continue from the fitted generator and, when the rows are the
            # same, from the fitted dual potential (one weight per row).
            latent_dim = self.latent_dim_
            model = Generator(**warm["generator"])
            if (
                self.dual_potential_ is not None
                and self.dual_potential_.shape[0] == data.shape[0]
            ):
                psi_init = to_tensor(self.dual_potential_, data.device, data.dtype)
        else:
            mean, cholesky = gaussian_start(data)
            model = init_generator(
                mean,
                cholesky @ cholesky.t(),
                latent_dim,
                hidden,
                streams.init,
                cholesky=cholesky,
            )
        names = ("semi_dual", "generator_loss")
        with self._progress(self.max_iter, names) as report:
            result = entropic_ot_fit(
                model,
                data,
                streams=streams,
                solver=solver,
                reg=float(self.reg),
                debias=float(self.debias),
                max_iter=int(self.max_iter),
                n_dual_steps=int(self.n_dual_steps),
                psi_init=psi_init,
                dual_step_size=float(self.dual_step_size),
                learning_rate=float(self.learning_rate),
                batch_size=int(self.batch_size),
                # Streamed batches are fresh rows: there is no training set
                # in memory to copy.
                memorization_reference=None
                if next_batch is not None
                else memorization_reference(
                    data, streams.batches, ratio=_MEMORIZATION_RATIO
                ),
                next_batch=next_batch,
                callback=report,
            )
        self._check_numerics(
            result.loop,
            "raise reg, lower learning_rate or dual_step_size, or use dtype='float64'.",
        )
        self.latent_dim_ = latent_dim
        self.cost_scale_ = float(cost_scale(data))
        self.solver_ = solver
        self.dual_potential_ = (
            to_numpy(result.psi) if solver == "semi-discrete" else None
        )
        self._tensors = {"generator": result.model._asdict()}
        self._record_fit(
            result.loop.n_iter,
            {
                "semi_dual": to_numpy(result.semi_dual).tolist(),
                "generator_loss": to_numpy(result.generator_loss).tolist(),
            },
        )
        loop = result.loop
        self.stop_reason_ = "interrupted" if loop.interrupted else loop.stop_reason
        self._warn_if_interrupted(loop.interrupted)

    # ------------------------------------------------------------ sampling
    _conditional_method = "latent MCMC"

    def _sample_scaled_given(self, targets, tensors, generator):
        model = Generator(**tensors["generator"])
        return latent_conditional_draw(
            lambda z: push_forward(model, z), model.latent_dim, targets, generator
        )

    def _sample_scaled(self, n_samples, tensors, generator):
        model = Generator(**tensors["generator"])
        with torch.no_grad():
            return torch.cat(
                [
                    draw(model, rows.stop - rows.start, generator)
                    for rows in sample_chunks(type(self).__name__, n_samples)
                ]
            )

    @classmethod
    def _upgrade_state(cls, state):
        # 0.1.0.dev0: the generator's parameters as parameter_{i}, its latent
        # dimension in latent_dim_.
        flat = state["_tensors"]
        parameters = [flat[f"parameter_{i}"] for i in range(len(flat))]
        state["_tensors"] = {
            "generator": Generator(parameters, state["latent_dim_"])._asdict()
        }
        return state
