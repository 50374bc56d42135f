"""Differentially private fits: the budget, its accounting and private gradients.

A sampler fitted with ``privacy=DifferentialPrivacy(epsilon, delta)`` is
``(epsilon, delta)``-differentially private with respect to adding or removing
one training row: whatever one row is, the fitted model (and so every row it
generates) is almost as likely either way. The data enter such a fit only
through DP-SGD (Abadi et al., 2016): at each critic step a Poisson-sampled
batch of rows, one gradient per row, each clipped to ``max_grad_norm``, summed,
and Gaussian noise of standard deviation ``noise_multiplier * max_grad_norm``
added. Opacus's accountant sets the noise multiplier for the whole fit before
it starts, so that the budget holds for every step the fit may take, and
reports the epsilon spent (:attr:`epsilon_` on the sampler) after it.

Everything else a fit would compute from the rows is replaced by public
information: the column ranges (``bounds``, or the ``output_bounds_`` of a
:class:`~skflow.TabularEncoder` fitted with ``domains``) replace the scaling
statistics, and the flows start from a standard Gaussian on that scale instead
of the data's Gaussian. The number of rows is treated as public, as in Opacus
(the sampling rate is ``batch_size / n_rows``).

The per-row gradients, their clipping and the noise are written here rather
than through Opacus's ``GradSampleModule``: skflow's critics are functional
networks whose weights pass through spectral normalisation, which Opacus's
module hooks do not see. The per-row gradients come from ``torch.func``
(``vmap`` of ``grad``), the engine Opacus itself uses for layers it has no
hook for; the noise is calibrated and accounted by Opacus.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator

from ._compat import Interval, StrOptions, validate_parameter_constraints
from ._private_domains import private_domains

__all__ = ["PRIVATE_FAMILIES", "DifferentialPrivacy", "private_domains"]

# The samplers whose data enter only through per-row minibatch gradients.
PRIVATE_FAMILIES = ("LipschitzParticleSampler", "ProximalMFGFlow")


class DifferentialPrivacy(BaseEstimator):
    """A differential-privacy budget for a sampler's fit.

    Pass it as a sampler's ``privacy`` parameter. The fit is then
    ``(epsilon, delta)``-differentially private in the training rows: the
    rows enter only through clipped, noised per-row gradients of the critic
    (DP-SGD), accounted by Opacus.

    Read more in the :ref:`User Guide <privacy>`.

    Parameters
    ----------
    epsilon : float, default=3.0
        The privacy budget, in (0, 1e6]. Smaller is more private and noisier:
        1 is strong, 10 weak.

    delta : float, default=1e-5
        The probability with which the guarantee may fail, in (0, 1); choose
        it below ``1 / n_rows``.

    max_grad_norm : float, default=1.0
        Each row's gradient is clipped to this Euclidean norm before the sum
        (the sensitivity of one step). Too small biases the critic, too large
        drowns it in noise.

    bounds : (float, float), (array-like, array-like) or None, default=None
        Public lower and upper bounds of every column, as one pair of numbers
        or a pair of arrays of shape ``(n_features,)``. Rows are clipped to
        them and scaled by them (never by statistics of the rows). None takes
        them from the transformer before the sampler in a pipeline (a
        :class:`~skflow.TabularEncoder` with ``domains``); a sampler fitted
        on its own then raises.

    accountant : {"rdp", "prv"}, default="rdp"
        Opacus's accountant: Renyi DP (Mironov, 2017), or the tighter privacy
        random variable accountant (Gopi et al., 2021).

    See Also
    --------
    skflow.LipschitzParticleSampler : Takes ``privacy``.
    skflow.ProximalMFGFlow : Takes ``privacy``.
    skflow.metrics.privacy_report : Attacks that measure what a synthetic set
        leaks, private or not.

    Notes
    -----
    The guarantee covers the fitted model and every row sampled from it
    (post-processing). It does not cover what is computed from the rows
    outside the fit: the encoder's categories and ranges when it is fitted
    without ``domains``, a model chosen by looking at the data, or the number
    of rows, which is treated as public. A private fit does not roll a
    non-finite window back (re-running iterations would spend the budget
    twice); it raises instead.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import LipschitzParticleSampler
    >>> from skflow.privacy import DifferentialPrivacy
    >>> X, _ = load_wine(return_X_y=True)
    >>> privacy = DifferentialPrivacy(
    ...     epsilon=3.0, bounds=(X.min(axis=0), X.max(axis=0))
    ... )
    >>> sampler = LipschitzParticleSampler(
    ...     privacy=privacy, max_iter=20, random_state=0
    ... ).fit(X)
    >>> bool(sampler.epsilon_ <= 3.0)
    True
    """

    _parameter_constraints: dict = {
        # Above 1e6 the noise is nil anyway, and the accountant's search for
        # a noise multiplier at 1e300 does not end.
        "epsilon": [Interval(Real, 0.0, 1e6, closed="right")],
        "delta": [Interval(Real, 0.0, 1.0, closed="neither")],
        "max_grad_norm": [Interval(Real, 0.0, None, closed="neither")],
        "bounds": [tuple, list, None],
        "accountant": [StrOptions({"rdp", "prv"})],
    }

    def __init__(
        self,
        epsilon=3.0,
        delta=1e-5,
        *,
        max_grad_norm=1.0,
        bounds=None,
        accountant="rdp",
    ):
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.bounds = bounds
        self.accountant = accountant


def check_privacy(privacy, owner) -> DifferentialPrivacy | None:
    """The validated budget of ``owner``'s ``privacy`` parameter, or None.

    A number is taken as ``epsilon`` with the default ``delta``. Refuses the
    families that cannot be made private, naming those that can.
    """
    if privacy is None:
        return None
    name = type(owner).__name__
    if isinstance(privacy, Real) and not isinstance(privacy, bool):
        privacy = DifferentialPrivacy(epsilon=float(privacy))
    if not isinstance(privacy, DifferentialPrivacy):
        raise TypeError(
            f"privacy must be None, a number (epsilon) or a "
            f"skflow.privacy.DifferentialPrivacy, got {type(privacy).__name__}."
        )
    validate_parameter_constraints(
        privacy._parameter_constraints,
        privacy.get_params(deep=False),
        caller_name="DifferentialPrivacy",
    )
    if name not in PRIVATE_FAMILIES:
        raise ValueError(
            f"{name} cannot be fitted with differential privacy: "
            f"{_WHY_NOT_PRIVATE.get(name, _NOT_PER_ROW)}. "
            f"The families that can are {', '.join(PRIVATE_FAMILIES)}; pass "
            "privacy to one of them."
        )
    return privacy


# Why each other family cannot be made private, for the error.
_NOT_PER_ROW = "its data do not enter only through per-row gradients"
_WHY_NOT_PRIVATE = {
    "SlicedWassersteinFlow": (
        "its sliced-Wasserstein loss sorts the data batch with the generated "
        "one, so no gradient belongs to one row and per-row clipping does not "
        "bound a row's influence"
    ),
    "EntropicOTGenerator": (
        "the semi-discrete dual keeps one weight per training row, and the "
        "Sinkhorn loss couples every row of a batch through the transport plan"
    ),
    "GaussianMixtureSampler": (
        "scikit-learn's EM computes means and covariances from the rows "
        "directly, with no noise"
    ),
}


def has_privacy(estimator) -> bool:
    """Whether ``estimator``, or the last step of a pipeline, has a budget."""
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return getattr(estimator, "privacy", None) is not None


def refuse_private(estimator, owner: str, why: str) -> None:
    """Raise when a meta-estimator would spend data outside a sampler's budget."""
    if has_privacy(estimator):
        raise ValueError(
            f"{owner} cannot keep a private sampler's guarantee: {why}, outside "
            "the budget. Fit the private sampler on its own (or in a "
            "GenerativePipeline behind TabularEncoder(domains=...))."
        )


def public_bounds(privacy: DifferentialPrivacy, n_features: int, passed=None):
    """The bounds ``(low, high)`` of the columns, arrays of ``n_features``.

    From ``privacy.bounds``, else from ``passed`` (the encoder's
    ``output_bounds_``, handed over by a pipeline); never from the rows.
    """
    bounds = privacy.bounds if privacy.bounds is not None else passed
    if bounds is None:
        raise ValueError(
            "A private fit cannot scale the columns by their own range or "
            "spread: those are statistics of the rows outside the budget. Pass "
            "public bounds, DifferentialPrivacy(epsilon, bounds=(low, high)) "
            "with numbers or per-column arrays, or fit in a pipeline behind "
            "TabularEncoder(domains=...), whose declared domains bound every "
            "column."
        )
    if len(bounds) != 2:
        raise ValueError(
            f"bounds must be a pair (low, high), got {len(bounds)} entries."
        )
    sides = []
    for name, side in zip(("low", "high"), bounds):
        try:
            side = np.asarray(side, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"bounds' {name} must be a number or one number per column, got "
                f"{side!r}."
            ) from exc
        if side.ndim > 1 or side.size not in (1, n_features):
            raise ValueError(
                f"bounds' {name} has {side.size} values for {n_features} columns; "
                "give one number for every column, or one per column."
            )
        sides.append(np.broadcast_to(side.reshape(-1), (n_features,)).copy())
    low, high = sides
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError("bounds must be finite numbers.")
    if np.any(low >= high):
        bad = np.flatnonzero(low >= high).tolist()
        raise ValueError(
            f"bounds must have low < high for every column; columns {bad} do "
            "not. Widen their bounds."
        )
    return low, high
