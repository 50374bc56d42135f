"""Sample-quality metrics: numpy in, float out.

All metrics compare rows as they are given: scale features first (or use
:func:`sample_report`, which standardises with the training rows) so that no
column dominates the distances.

Scale rule. Every metric first divides its samples by one power of two, the one
that brings their largest absolute value into [0.5, 1) (exact: no rounding),
computes there, and multiplies the result back, so it is correct for data in
any float64 range (1e-300 as well as 1e300); ``coverage`` and ``dcr`` do so
for the metrics in ``_HOMOGENEOUS_METRICS`` only. ``coverage``, ``dcr``,
``c2st_auc`` (with a scale-invariant classifier such as the default) and
``mmd`` with its default bandwidth are scale-invariant: the same for ``s * X``
as for ``X``. ``wasserstein1`` and ``sliced_wasserstein`` are homogeneous of
degree 1 (``s`` times the value), ``energy_distance`` of degree 1/2 (it is the
square root of a mean distance: ``sqrt(s)`` times the value) and ``mmd`` with
an explicit bandwidth is the same when the bandwidth is scaled with the data.
A distance that itself exceeds the largest float64 (about 1.8e308) raises
``OverflowError`` instead of returning ``inf``.
"""

from __future__ import annotations

import numpy as np
import ot
import torch
from sklearn.base import clone, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import NearestNeighbors

from .._compat import InvalidParameterError, check_array
from .._frames import align_columns, encoded_if_mixed
from .._pairwise import energy_distance_tensor, rbf_mmd_tensor
from .._scaling import scale_exponent
from .._threads import openmp_threads
from .._torch_utils import check_random_state
from .._validation import check_bool, check_count, check_memory, check_real

# Rows used to estimate the median pairwise distance (MMD bandwidth).
_MEDIAN_HEURISTIC_ROWS = 1000
# Projected values held at once by ``sliced_wasserstein``: POT's 1-D solver keeps
# about ten arrays of (n_X + n_Y) x n_projections entries, which for 100,000
# rows and 200 directions is several GB; directions are processed in blocks of
# at most this many entries instead.
_SLICED_BLOCK_ENTRIES = 2**21
# Largest order of sliced_wasserstein: the projected differences are at most 2
# after rescaling, so |difference|^p stays finite, and up to this order only
# differences below about 1e-3 of the data's scale fall out of float64's range.
_MAX_SLICED_P = 100
# Named metrics d with d(c x, c y) = c^k d(x, y) for c > 0: coverage and dcr,
# which compare such distances with each other, are then unchanged when every
# row is divided by the same power of two.
_HOMOGENEOUS_METRICS = frozenset(
    {
        "euclidean",
        "l2",
        "sqeuclidean",
        "cityblock",
        "manhattan",
        "l1",
        "chebyshev",
        "infinity",
        "minkowski",
        "cosine",
        "braycurtis",
        "canberra",
        "correlation",
    }
)


def _check_pair(X, Y, *, min_samples=1, names=("X", "Y")):
    Y = align_columns(X, Y)
    X = check_array(
        X, dtype=np.float64, ensure_min_samples=min_samples, input_name=names[0]
    )
    Y = check_array(
        Y, dtype=np.float64, ensure_min_samples=min_samples, input_name=names[1]
    )
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"The two samples have different numbers of features ({X.shape[1]} and "
            f"{Y.shape[1]}); pass rows of the same columns."
        )
    return X, Y


def _subsample(X, max_samples, rng):
    max_samples = check_count(max_samples, "max_samples", allow_none=True)
    if max_samples is None or X.shape[0] <= max_samples:
        return X
    return X[rng.choice(X.shape[0], size=max_samples, replace=False)]


def _check_and_subsample(X, Y, max_samples, random_state):
    X, Y = _check_pair(X, Y)
    rng = check_random_state(random_state)
    return _subsample(X, max_samples, rng), _subsample(Y, max_samples, rng)


def _as_cpu_tensor(X: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(X))


def _rescaled(exponent, *arrays):
    """Every array times ``2^-exponent``: exact, barring subnormal results."""
    return tuple(np.ldexp(a, -exponent) for a in arrays)


def _scaled_back(value, exponent, name):
    """``value * 2^exponent``, or an ``OverflowError`` beyond float64."""
    with np.errstate(over="ignore"):
        result = float(np.ldexp(value, exponent))
    if not np.isfinite(result):
        raise OverflowError(
            f"{name} of these samples is about {value:.6g} * 2**{exponent}, "
            f"beyond the largest float64 ({np.finfo(np.float64).max:.4g}); divide "
            "both samples by a common factor first (for example standardise "
            "them) and multiply the distance back in your own units."
        )
    return result


def _is_homogeneous(metric):
    return isinstance(metric, str) and metric in _HOMOGENEOUS_METRICS


def energy_distance(X, Y, *, max_samples=None, random_state=None):
    """Energy distance between two samples.

    ``sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|)`` with Euclidean norms, computed
    over all pairs (V-statistics) in bounded-memory chunks. It is zero for
    identical samples, a metric between distributions, and equals
    :func:`scipy.stats.energy_distance` in one dimension. Time is quadratic in
    the rows; memory is bounded by a constant number of pairs.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample, e.g. held-out real rows.

    Y : array-like of shape (n_samples_Y, n_features)
        Second sample, e.g. generated rows, with the same columns as ``X``.

    max_samples : int or None, default=None
        If set, each sample is randomly subsampled to at most this many rows
        (cost is quadratic in the rows).

    random_state : int, RandomState instance or None, default=None
        Used only for subsampling.

    Returns
    -------
    distance : float
        The energy distance, >= 0; 0 when the two samples are identical.
        Homogeneous of degree 1/2: ``energy_distance(s * X, s * Y)`` is
        ``sqrt(s) * energy_distance(X, Y)``, computed on rescaled rows so that
        it is exact in any float64 range.

    See Also
    --------
    mmd : The same comparison through a Gaussian kernel.
    sample_report : Every metric at once, on standardised rows.

    References
    ----------
    .. [1] G. J. Szekely and M. L. Rizzo, "Energy statistics: a class of
       statistics based on distances", Journal of Statistical Planning and
       Inference 143(8), 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import energy_distance
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> energy_distance(X, X)
    0.0
    >>> fresh = rng.normal(size=(200, 3))
    >>> energy_distance(X, fresh) < energy_distance(X, fresh + 1.0)
    True
    """
    X, Y = _check_and_subsample(X, Y, max_samples, random_state)
    exponent = scale_exponent(X, Y)
    X, Y = _rescaled(exponent, X, Y)
    value = float(energy_distance_tensor(_as_cpu_tensor(X), _as_cpu_tensor(Y)))
    # Homogeneous of degree 1/2: E(cX, cY) = sqrt(c) E(X, Y), c = 2^exponent.
    half, odd = divmod(exponent, 2)
    return float(np.ldexp(value * np.sqrt(2.0) if odd else value, half))


def median_heuristic(X, Y, *, random_state=0):
    """Median Euclidean distance between rows of the pooled sample.

    Computed on rows rescaled by a power of two, so it neither overflows nor
    underflows; when more than half the pairs coincide it is that power of two
    (the data's scale) rather than 0.
    """
    X, Y = _check_pair(X, Y)
    exponent = scale_exponent(X, Y)
    return _scaled_back(
        _median_distance(*_rescaled(exponent, X, Y), random_state),
        exponent,
        "The median distance",
    )


def _median_distance(X, Y, random_state):
    """Median pairwise distance of rows with largest ``|value|`` below 1, or 1."""
    rng = check_random_state(random_state)
    pooled = _subsample(np.vstack([X, Y]), _MEDIAN_HEURISTIC_ROWS, rng)
    distances = torch.pdist(_as_cpu_tensor(pooled))
    median = float(distances.median()) if distances.numel() else 0.0
    return median if median > 0 else 1.0


def mmd(X, Y, *, bandwidth=None, max_samples=None, random_state=None):
    """Maximum mean discrepancy with a Gaussian (RBF) kernel.

    ``sqrt(E k(X,X') + E k(Y,Y') - 2 E k(X,Y))`` with
    ``k(x, y) = exp(-|x - y|^2 / (2 h^2))``, V-statistics, chunked. Time is
    quadratic in the rows; memory is bounded by a constant number of pairs.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample, e.g. held-out real rows.

    Y : array-like of shape (n_samples_Y, n_features)
        Second sample, e.g. generated rows, with the same columns as ``X``.

    bandwidth : float or None, default=None
        Kernel width ``h``, a finite number > 0 in the units of the rows. None
        uses the median heuristic: the median distance between rows of the
        pooled sample (at most 1000 rows). A bandwidth so small that the kernel
        underflows to 0 for every pair of distinct rows, or so large that it
        is 1 to float64 precision for every pair, raises ``ValueError``.

    max_samples : int or None, default=None
        Subsample each set to at most this many rows.

    random_state : int, RandomState instance or None, default=None
        Used for subsampling.

    Returns
    -------
    distance : float
        The (biased) MMD, >= 0; 0 when the two samples are identical. It has
        no units: ``mmd(s * X, s * Y)`` equals ``mmd(X, Y)`` with the default
        bandwidth, and with ``bandwidth=s * h`` against ``bandwidth=h``.

    See Also
    --------
    energy_distance : Distance-based counterpart without a bandwidth.
    sample_report : Every metric at once, on standardised rows.

    References
    ----------
    .. [1] A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Scholkopf and A. Smola,
       "A kernel two-sample test", Journal of Machine Learning Research 13,
       2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import mmd
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> mmd(X, X)
    0.0
    >>> fresh = rng.normal(size=(200, 3))
    >>> mmd(X, fresh) < mmd(X, fresh + 1.0)
    True
    """
    bandwidth = check_real(
        bandwidth,
        "bandwidth",
        low=0.0,
        low_inclusive=False,
        allow_none=True,
        remedy="None uses the median distance between rows.",
    )
    X, Y = _check_and_subsample(X, Y, max_samples, random_state)
    # The MMD depends on the rows and h only through |x - y| / h: dividing both
    # by the same power of two changes nothing but the range of the numbers.
    exponent = scale_exponent(X, Y)
    X, Y = _rescaled(exponent, X, Y)
    if bandwidth is None:
        return float(
            rbf_mmd_tensor(
                _as_cpu_tensor(X), _as_cpu_tensor(Y), _median_distance(X, Y, 0)
            )
        )
    with np.errstate(over="ignore", under="ignore"):
        scaled = float(np.ldexp(bandwidth, -exponent))
    # No distance between rows exceeds twice the largest row norm; beyond 2^26
    # times that, every |x - y|^2 / (2 h^2) is below 2^-53, each kernel value
    # rounds to 1 and the MMD is rounding noise.
    widest = 2.0 * max(float(np.max(np.linalg.norm(A, axis=1))) for A in (X, Y))
    if widest > 0 and not scaled <= 2.0**26 * widest:
        raise ValueError(
            f"bandwidth={bandwidth!r} is more than 6.7e7 times every distance "
            "between rows: the kernel is 1 to float64 precision for every pair "
            "and the MMD would be rounding noise; pass a bandwidth comparable "
            "to the distances between rows, or None for the median heuristic."
        )
    if scaled > 0:
        value, reaches = rbf_mmd_tensor(
            _as_cpu_tensor(X), _as_cpu_tensor(Y), scaled, return_reach=True
        )
    if not scaled > 0 or not reaches:
        raise ValueError(
            f"bandwidth={bandwidth!r} is so small against the distances between "
            "rows that the kernel underflows to 0 for every pair of distinct "
            "rows: the MMD would only count identical rows; pass a bandwidth "
            "comparable to the distances between rows, or None for the median "
            "heuristic."
        )
    return float(value)


def sliced_wasserstein(X, Y, *, n_projections=200, p=2, random_state=None):
    """Sliced Wasserstein distance ``SW_p`` (POT's Monte Carlo estimate).

    The mean over random unit directions of the ``p``-Wasserstein distance
    between the projected samples, to the power ``1/p`` (POT returns ``SW_p``,
    not ``SW_p^p``). In one dimension it equals the exact ``W_p``.

    The value is POT's :func:`ot.sliced_wasserstein_distance` with the same
    directions (up to rounding); the directions are processed in blocks so
    that memory stays bounded by a constant number of projected values (about
    2 million) beyond the samples themselves, whatever ``n_projections`` and
    the row counts.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample, e.g. held-out real rows.

    Y : array-like of shape (n_samples_Y, n_features)
        Second sample, e.g. generated rows, with the same columns as ``X``.

    n_projections : int, default=200
        Number of random directions; the Monte Carlo error shrinks like
        ``1 / sqrt(n_projections)``.

    p : float, default=2
        Order of the Wasserstein distance on each direction, a finite number
        in ``[1, 100]``.

    random_state : int, RandomState instance or None, default=None
        Draws the projection directions.

    Returns
    -------
    distance : float
        The estimate of ``SW_p``, >= 0, in the units of the rows: computed on
        rows divided by a power of two and multiplied back, so that
        ``sliced_wasserstein(s * X, s * Y)`` is ``s`` times the value in any
        float64 range. ``OverflowError`` if it exceeds the largest float64;
        ``ValueError`` if, for a large ``p``, the ``p``-th powers of the
        projected differences underflow.

    See Also
    --------
    wasserstein1 : The exact (unsliced) Wasserstein-1 distance, at a much
        higher cost.
    ot.sliced_wasserstein_distance : POT's estimator, which gives the same value
        with the same directions.

    References
    ----------
    .. [1] N. Bonneel, J. Rabin, G. Peyre and H. Pfister, "Sliced and Radon
       Wasserstein barycenters of measures", Journal of Mathematical Imaging
       and Vision 51(1), 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import sliced_wasserstein
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 1))
    >>> round(sliced_wasserstein(X, X + 2.0, random_state=0), 6)
    2.0
    """
    n_projections = check_count(n_projections, "n_projections")
    p = check_real(
        p,
        "p",
        low=1.0,
        high=_MAX_SLICED_P,
        remedy="SW_p is a distance for p >= 1, and beyond "
        f"{_MAX_SLICED_P} |difference|^p leaves float64's range.",
    )
    X, Y = _check_pair(X, Y)
    # Divided by the power of two that brings the largest row norm into
    # [0.5, 1): every projection is then in [-1, 1], every difference at most 2.
    exponent = scale_exponent(X, Y)
    X, Y = _rescaled(exponent, X, Y)
    norms = scale_exponent(*(np.linalg.norm(A, axis=1) for A in (X, Y)))
    X, Y = _rescaled(norms, X, Y)
    # The directions are drawn at once (twice: POT normalises a copy).
    check_memory(
        "sliced_wasserstein",
        {
            f"n_projections={n_projections} of {X.shape[1]} features": (
                2 * n_projections * X.shape[1] * 8,
                "lower n_projections (e.g. 200).",
            )
        },
    )
    directions = ot.sliced.get_random_projections(
        X.shape[1], n_projections, check_random_state(random_state)
    )
    power = _sliced_mean_power(X, Y, directions, p)
    if power < np.finfo(np.float64).tiny and p > 1:
        # Subnormal or zero: every |difference|^p underflowed (or nearly). Zero
        # is right only if the projected samples coincide, which W_1 tells.
        if _sliced_mean_power(X, Y, directions, 1.0) > 0:
            raise ValueError(
                f"sliced_wasserstein with p={p:g}: the projected differences "
                "are so small against the samples' scale that their p-th "
                "powers underflow float64; lower p."
            )
        return 0.0
    return _scaled_back(power ** (1.0 / p), exponent + norms, "sliced_wasserstein")


def _sliced_mean_power(X, Y, projections, p, block_entries=None):
    """Mean over the directions of ``W_p^p`` as POT computes it, in blocks.

    POT's own directions are passed in, so the value is POT's; the blocks bound
    the memory. Each block's sum is divided by the number of directions before
    it is added, so the mean stays finite whenever each term is.
    """
    block_entries = _SLICED_BLOCK_ENTRIES if block_entries is None else block_entries
    n_projections = projections.shape[1]
    per_block = max(1, block_entries // (X.shape[0] + Y.shape[0]))
    weights_x = np.full(X.shape[0], 1.0 / X.shape[0])
    weights_y = np.full(Y.shape[0], 1.0 / Y.shape[0])
    total = 0.0
    for start in range(0, n_projections, per_block):
        directions = projections[:, start : start + per_block]
        powers = ot.lp.wasserstein_1d(
            X @ directions, Y @ directions, weights_x, weights_y, p=p
        )
        total += float(np.sum(powers / n_projections))
    return total


def wasserstein1(X, Y, *, metric="euclidean", max_samples=3000, random_state=None):
    """Exact Wasserstein-1 distance between two samples (POT ``emd2``).

    The optimal transport cost between the two samples, each row weighted
    uniformly, with the distance between rows as the ground cost, solved
    exactly by POT's network simplex.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First sample, e.g. held-out real rows.

    Y : array-like of shape (n_samples_Y, n_features)
        Second sample, e.g. generated rows, with the same columns as ``X``.

    metric : {"euclidean", "cityblock"}, default="euclidean"
        Ground cost: L2 or L1 distance between rows.

    max_samples : int or None, default=3000
        Each sample is randomly subsampled to at most this many rows: the exact
        solver needs a dense ``n_X x n_Y`` cost matrix and super-quadratic time.

    random_state : int, RandomState instance or None, default=None
        Used for subsampling.

    Returns
    -------
    distance : float
        The Wasserstein-1 distance, in the units of the rows. It is solved on
        rows divided by a power of two and multiplied back, so that
        ``wasserstein1(s * X, s * Y)`` is ``s`` times the value in any float64
        range (POT's solver alone is off for costs below about 1e-20);
        ``OverflowError`` if it exceeds the largest float64.

    See Also
    --------
    sliced_wasserstein : A cheap Monte Carlo distance on random directions.
    ot.emd2 : POT's exact solver, used here.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import wasserstein1
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 2))
    >>> round(wasserstein1(X, X + [3.0, 4.0]), 6)  # a translation by 5
    5.0
    """
    if metric not in ("euclidean", "cityblock"):
        raise ValueError(f"metric must be 'euclidean' or 'cityblock', got {metric!r}.")
    X, Y = _check_and_subsample(X, Y, max_samples, random_state)
    # POT's network simplex compares costs with absolute tolerances, so costs of
    # about 1e-20 come out 30-47% off; on rows with largest |value| in [0.5, 1)
    # the costs are of order 1 and W_1(cX, cY) = c W_1(X, Y) brings them back.
    exponent = scale_exponent(X, Y)
    X, Y = _rescaled(exponent, X, Y)
    cost = ot.dist(X, Y, metric=metric)
    weights_x = np.full(X.shape[0], 1.0 / X.shape[0])
    weights_y = np.full(Y.shape[0], 1.0 / Y.shape[0])
    value = float(ot.emd2(weights_x, weights_y, cost, numItermax=10_000_000))
    return _scaled_back(value, exponent, "wasserstein1")


def coverage(X_real, X_synth, *, n_neighbors=5, metric="euclidean"):
    """Coverage of the real rows by the synthetic ones (Naeem et al., 2020).

    The fraction of real rows whose ``n_neighbors``-nearest-neighbour ball among
    the real rows contains at least one synthetic row. 1 means every region of
    the real data is reached; unlike recall it is robust to outliers.

    Parameters
    ----------
    X_real : array-like of shape (n_real, n_features)
        Real rows, e.g. held out from the fit.

    X_synth : array-like of shape (n_synth, n_features)
        Generated rows, with the same columns.

    n_neighbors : int, default=5
        ``k`` of the real rows' nearest-neighbour balls, in
        ``[1, n_real - 1]``.

    metric : str or callable, default="euclidean"
        A metric of :class:`sklearn.neighbors.NearestNeighbors` that reads
        rows of numbers and needs no parameters ("euclidean", "cityblock",
        "cosine", "chebyshev", ...), or a callable. With the
        Minkowski family, ``"sqeuclidean"``, ``"cosine"``, ``"braycurtis"``,
        ``"canberra"`` or ``"correlation"`` the rows are first divided by a
        common power of two, so that the value is scale-invariant in any
        float64 range; other metrics see the rows as given.

    Returns
    -------
    coverage : float in [0, 1]
        The fraction of real rows whose ball holds a synthetic row; the same
        for ``s * X_real, s * X_synth`` as for ``X_real, X_synth``.

    See Also
    --------
    dcr : Whether the synthetic rows copy training rows.
    sample_report : Every metric at once, on standardised rows.

    References
    ----------
    .. [1] M. F. Naeem, S. J. Oh, Y. Uh, Y. Choi and J. Yoo, "Reliable fidelity
       and diversity metrics for generative models", ICML 2020.
       arXiv:2002.09797.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import coverage
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2))
    >>> coverage(X, rng.normal(size=(200, 2))) > 0.8
    True
    >>> coverage(X, X + 10.0)  # far away: no real row is reached
    0.0
    """
    X_real, X_synth = _check_pair(X_real, X_synth, names=("X_real", "X_synth"))
    n_neighbors = check_count(n_neighbors, "n_neighbors")
    if not n_neighbors < X_real.shape[0]:
        raise ValueError(
            f"n_neighbors must be in [1, {X_real.shape[0] - 1}] for "
            f"{X_real.shape[0]} real rows, got {n_neighbors}."
        )
    _check_neighbour_metric(metric)
    X_real, X_synth = _rescaled_for(metric, X_real, X_synth)
    real_knn = NearestNeighbors(n_neighbors=n_neighbors + 1, metric=metric)
    radii = real_knn.fit(X_real).kneighbors(X_real)[0][:, -1]
    synth_nn = NearestNeighbors(n_neighbors=1, metric=metric).fit(X_synth)
    nearest_synth = synth_nn.kneighbors(X_real)[0][:, 0]
    return float(np.mean(nearest_synth <= radii))


# The named metrics coverage and dcr take: those of NearestNeighbors that need
# no parameters and read rows of numbers (not precomputed distances, not
# booleans).
_NEIGHBOUR_METRICS = (
    "braycurtis",
    "canberra",
    "chebyshev",
    "cityblock",
    "correlation",
    "cosine",
    "euclidean",
    "l1",
    "l2",
    "manhattan",
    "minkowski",
    "sqeuclidean",
)


def _check_neighbour_metric(metric) -> None:
    """Refuse a ``metric`` that coverage and dcr cannot use on rows."""
    if callable(metric):
        return
    if not isinstance(metric, str) or metric not in _NEIGHBOUR_METRICS:
        raise ValueError(
            f"metric must be a callable or one of {list(_NEIGHBOUR_METRICS)}, got "
            f"{metric!r} (the rows are points, not precomputed distances; metrics "
            "that need parameters, such as 'mahalanobis', take a callable)."
        )


def _rescaled_for(metric, *arrays):
    """The arrays divided by their common power of two, for homogeneous metrics.

    Ratios and comparisons of ``d(x, y)`` are then those of the rows as given,
    without squares of 1e300 overflowing or of 1e-300 underflowing.
    """
    if not _is_homogeneous(metric):
        return arrays
    return _rescaled(scale_exponent(*arrays), *arrays)


def c2st_auc(X_real, X_synth, *, classifier=None, cv=5, random_state=None):
    """Classifier two-sample test: cross-validated ROC AUC of real vs synthetic.

    The larger set is subsampled to the size of the smaller, a classifier
    learns to tell them apart, and the mean out-of-fold ROC AUC is returned.
    0.5 means the classifier cannot tell them apart; 1.0 means it always can.
    Values well below 0.5 mean the two sets share rows: a held-out row's
    duplicate sits in the training folds with the other label, so the
    classifier is wrong about it on purpose (identical sets score under 0.1).
    Read such a value as copying, not as a better than perfect match, and
    check it with :func:`dcr`.

    Parameters
    ----------
    X_real : array-like of shape (n_real, n_features)
        Real rows, e.g. held out from the fit.

    X_synth : array-like of shape (n_synth, n_features)
        Generated rows, with the same columns.

    classifier : estimator or None, default=None
        Any classifier with ``predict_proba`` or ``decision_function``
        (:func:`sklearn.base.is_classifier` true; a regressor or a clusterer
        raises ``TypeError``). None uses
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. The
        classifier sees both sets divided by one power of two that brings their
        largest absolute value into [0.5, 1), so that a scale-invariant
        classifier (such as the default) gives the same AUC for ``s * X`` as
        for ``X`` in any float64 range.
    cv : int, default=5
        Stratified folds, >= 2; each set needs at least ``cv`` rows.

    random_state : int, RandomState instance or None, default=None
        Subsampling, fold shuffling and the default classifier's seed.

    Returns
    -------
    auc : float in [0, 1]
        The mean out-of-fold ROC AUC: 0.5 is best.

    See Also
    --------
    dcr : Tells copying apart from a good match when the AUC is below 0.5.
    sample_report : Every metric at once, on standardised rows.

    References
    ----------
    .. [1] D. Lopez-Paz and M. Oquab, "Revisiting classifier two-sample tests",
       ICLR 2017. arXiv:1610.06545.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skflow.metrics import c2st_auc
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2))
    >>> shifted = rng.normal(size=(200, 2)) + 3.0
    >>> c2st_auc(X, shifted, classifier=LogisticRegression(), random_state=0) > 0.95
    True
    """
    cv = check_count(cv, "cv", minimum=2, remedy="the number of stratified folds.")
    if classifier is not None and (
        isinstance(classifier, type)
        or not hasattr(classifier, "get_params")
        or not is_classifier(classifier)
    ):
        raise TypeError(
            f"classifier must be a scikit-learn classifier (is_classifier true, "
            f"with predict_proba or decision_function), got {classifier!r}."
        )
    X_real, X_synth = _check_pair(X_real, X_synth, names=("X_real", "X_synth"))
    fewest = min(X_real.shape[0], X_synth.shape[0])
    if fewest < cv:
        raise ValueError(
            f"c2st_auc with cv={cv} needs at least {cv} rows in each set, got "
            f"{X_real.shape[0]} real and {X_synth.shape[0]} synthetic rows; "
            "lower cv or pass more rows."
        )
    # One exact power of two for both sets: nothing changes for a classifier
    # that ignores the scale (the default bins by quantiles) except that its
    # arithmetic stays in range at 1e300 or 1e-300.
    X_real, X_synth = _rescaled(scale_exponent(X_real, X_synth), X_real, X_synth)
    rng = check_random_state(random_state)
    n = min(X_real.shape[0], X_synth.shape[0])
    X = np.vstack([_subsample(X_real, n, rng), _subsample(X_synth, n, rng)])
    y = np.r_[np.zeros(n), np.ones(n)]
    seed = int(rng.randint(np.iinfo(np.int32).max))
    if classifier is None:
        classifier = HistGradientBoostingClassifier(random_state=seed)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    with openmp_threads():
        scores = cross_val_score(clone(classifier), X, y, cv=folds, scoring="roc_auc")
    return float(np.mean(scores))


def dcr(X_train, X_synth, X_holdout, *, quantile=0.5, metric="euclidean"):
    """Distance-to-closest-record ratio: a memorisation check.

    For every synthetic row, the distance to its closest training row; the same
    for every held-out real row; the ratio of the two ``quantile``-quantiles.
    About 1 (or more) means synthetic rows are no closer to the training rows
    than fresh real rows are; well below 1 means the generator copies training
    rows (0 when it returns them verbatim).

    Parameters
    ----------
    X_train : array-like of shape (n_train, n_features)
        Rows the generator was fitted on.

    X_synth : array-like of shape (n_synth, n_features)
        Generated rows.

    X_holdout : array-like of shape (n_holdout, n_features)
        Real rows the generator never saw.

    quantile : float in (0, 1), default=0.5
        0.5 compares medians; smaller values look at the closest rows.

    metric : str or callable, default="euclidean"
        As in :func:`coverage`; the rows are
        divided by a common power of two first for the same metrics as in
        :func:`coverage`.

    Returns
    -------
    ratio : float
        The ratio of the two quantiles, >= 0, the same for ``s`` times every
        set as for the sets themselves. ``inf`` when the held-out rows
        are themselves copies of training rows (zero denominator) and the
        synthetic rows are not; 1 when both are.

    See Also
    --------
    c2st_auc : Whether a classifier tells real and synthetic rows apart.
    sample_report : Every metric at once, on standardised rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import dcr
    >>> rng = np.random.RandomState(0)
    >>> X_train, X_holdout = rng.normal(size=(200, 2)), rng.normal(size=(100, 2))
    >>> dcr(X_train, X_train[:100], X_holdout)  # verbatim copies
    0.0
    >>> 0.5 < dcr(X_train, rng.normal(size=(100, 2)), X_holdout) < 2.0
    True
    """
    X_train, X_synth = _check_pair(X_train, X_synth, names=("X_train", "X_synth"))
    X_train, X_holdout = _check_pair(X_train, X_holdout, names=("X_train", "X_holdout"))
    quantile = check_real(
        quantile,
        "quantile",
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    _check_neighbour_metric(metric)
    X_train, X_synth, X_holdout = _rescaled_for(metric, X_train, X_synth, X_holdout)
    nearest = NearestNeighbors(n_neighbors=1, metric=metric).fit(X_train)
    synth = np.quantile(nearest.kneighbors(X_synth)[0][:, 0], quantile)
    holdout = np.quantile(nearest.kneighbors(X_holdout)[0][:, 0], quantile)
    if holdout == 0:
        return 1.0 if synth == 0 else float("inf")
    return float(synth / holdout)


def sample_report(
    X_train,
    X_test,
    X_synth,
    *,
    standardize=True,
    max_samples=2000,
    privacy=False,
    random_state=0,
):
    """Every skflow metric for one synthetic set, against held-out rows.

    Each distance compares the generated rows with held-out real rows; ``dcr``
    also measures them against the training rows. The expensive metrics run
    on subsets of at most ``max_samples`` rows.

    Parameters
    ----------
    X_train : array-like or DataFrame of shape (n_train, n_features)
        Rows the generator was fitted on (for ``dcr`` and the scaling). A
        DataFrame with text, categorical, date or missing values is taken as it
        is: all three sets are first encoded by a
        :class:`~skflow.TabularEncoder` fitted on ``X_train`` (columns matched
        by name).
    X_test : array-like or DataFrame of shape (n_test, n_features)
        Held-out real rows: the reference for every distance.
    X_synth : array-like or DataFrame of shape (n_synth, n_features)
        Generated rows.
    standardize : bool, default=True
        Standardise every set with the training rows' mean and standard
        deviation first, so that no feature dominates the distances. Both are
        computed on columns divided by a power of two, so that they neither
        overflow nor underflow; the report is then the same for ``s`` times
        every set as for the sets themselves. Columns constant in the training
        rows are only centred.
    max_samples : int >= 2 or None, default=2000
        Row cap per set for the quadratic-cost metrics: ``energy_distance``,
        ``mmd`` and ``wasserstein1`` compare random subsets of at most this many
        rows, ``coverage`` is computed on such subsets of the held-out and
        generated rows, and ``dcr`` measures at most this many generated and
        held-out rows against *all* training rows (so a copied training row is
        still found). ``None`` uses every row.
    privacy : bool or dict, default=False
        Also run :func:`privacy_report` (membership, singling-out and copy
        risks; ``X_test`` is its control group) with the same
        ``max_samples`` (then at least 4) and ``random_state``, and add its
        keys prefixed with ``privacy_``. A dict passes its other options,
        e.g. ``{"sensitive": ["income"]}`` for the attribute-inference
        attack, or ``{"sensitive": "income", "quasi_identifiers": ["age",
        "zip"]}``.
    random_state : int, RandomState instance or None, default=0
        Seeds the subsets, the projection directions and the classifier, so
        that the report is reproducible.

    Returns
    -------
    report : dict of str to float
        ``energy_distance``, ``mmd``, ``sliced_wasserstein``, ``wasserstein1``
        (lower is better), ``coverage`` (higher is better), ``c2st_auc``
        (0.5 is best) and ``dcr`` (about 1 or more: no memorisation); with
        ``privacy=True`` also ``privacy_mia_distance_auc`` and the other keys
        of :func:`privacy_report`.

    See Also
    --------
    energy_distance : Distance between the samples over all pairs of rows.
    c2st_auc : Whether a classifier tells the samples apart.
    dcr : Whether generated rows copy training rows.
    privacy_report : Membership, singling-out and attribute-inference risks.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.metrics import sample_report
    >>> rng = np.random.RandomState(0)
    >>> X_train, X_test = rng.normal(size=(100, 3)), rng.normal(size=(50, 3))
    >>> report = sample_report(X_train, X_test, rng.normal(size=(50, 3)))
    >>> sorted(report)
    ['c2st_auc', 'coverage', 'dcr', 'energy_distance', 'mmd',
     'sliced_wasserstein', 'wasserstein1']
    """
    standardize = check_bool(standardize, "standardize")
    privacy_options = _check_privacy_options(privacy)
    max_samples = check_count(
        max_samples,
        "max_samples",
        minimum=2,
        allow_none=True,
        remedy="coverage needs at least two held-out rows in its subset.",
    )
    # The audit compares raw values (exact copies), so it gets the sets as
    # passed; it encodes them itself.
    raw = (X_train, X_test, X_synth)
    X_train, X_test, X_synth, _ = encoded_if_mixed(X_train, X_test, X_synth)
    # Both pairs are checked against the training rows as passed (a DataFrame
    # keeps its names for the second check too).
    _, X_test = _check_pair(X_train, X_test, min_samples=2, names=("X_train", "X_test"))
    X_train, X_synth = _check_pair(
        X_train, X_synth, min_samples=2, names=("X_train", "X_synth")
    )
    if standardize:
        X_train, X_test, X_synth = _standardized(X_train, X_test, X_synth)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=5)
    cv = int(min(5, X_test.shape[0], X_synth.shape[0]))
    # Subsets for the nearest-neighbour metrics, whose time is quadratic: drawn
    # after the seeds so the other metrics' draws do not depend on them.
    test_rows = _subsample(X_test, max_samples, rng)
    synth_rows = _subsample(X_synth, max_samples, rng)
    n_neighbors = min(5, test_rows.shape[0] - 1)
    report = {
        "energy_distance": energy_distance(
            X_test, X_synth, max_samples=max_samples, random_state=seeds[0]
        ),
        "mmd": mmd(X_test, X_synth, max_samples=max_samples, random_state=seeds[1]),
        "sliced_wasserstein": sliced_wasserstein(
            X_test, X_synth, random_state=seeds[2]
        ),
        "wasserstein1": wasserstein1(
            X_test, X_synth, max_samples=max_samples, random_state=seeds[3]
        ),
        "coverage": coverage(test_rows, synth_rows, n_neighbors=n_neighbors),
        "c2st_auc": c2st_auc(X_test, X_synth, cv=cv, random_state=seeds[4]),
        "dcr": dcr(X_train, synth_rows, test_rows),
    }
    if privacy_options is not None:
        from ._privacy import privacy_report

        audit = privacy_report(
            *raw, max_samples=max_samples, random_state=random_state, **privacy_options
        )
        report.update({f"privacy_{key}": value for key, value in audit.items()})
    return report


# The options of privacy_report that sample_report's privacy dict may set;
# max_samples and random_state are sample_report's own.
_PRIVACY_OPTIONS = (
    "sensitive",
    "quasi_identifiers",
    "near_quantile",
    "numeric_tolerance",
)


def _check_privacy_options(privacy) -> dict | None:
    """``privacy`` of :func:`sample_report` as privacy_report's options, or None."""
    if isinstance(privacy, dict):
        unknown = sorted(map(str, set(privacy) - set(_PRIVACY_OPTIONS)))
        if unknown:
            raise ValueError(
                f"privacy has unknown options {unknown}; it takes "
                f"{list(_PRIVACY_OPTIONS)} (max_samples and random_state are "
                "sample_report's own)."
            )
        return dict(privacy)
    if not isinstance(privacy, (bool, np.bool_)):
        raise InvalidParameterError(
            f"privacy must be True, False or a dict of privacy_report options "
            f'(such as {{"sensitive": ["income"]}}), got {privacy!r}.'
        )
    return {} if privacy else None


def _standardized(
    X_train,
    X_test,
    X_synth,
    names=("X_train", "X_test", "X_synth"),
    remedy="pass standardize=False or scale the sets yourself.",
):
    """Every set minus the training mean, over the training standard deviation.

    Per column, on the rows divided by the power of two of the training rows'
    largest ``|value|`` (exact), and the deviations from the mean by their own
    largest ``|value|``, so that neither the mean nor the squares overflow at
    1e300 or underflow at 1e-300. Columns constant in the training rows are
    only centred, in their own units.
    """
    largest = np.max(np.abs(X_train), axis=0)
    exponent = np.where(largest > 0, np.frexp(largest)[1], 0).astype(np.int32)
    train = np.ldexp(X_train, -exponent)
    center = train.mean(axis=0)
    deviation = train - center
    widest = np.max(np.abs(deviation), axis=0)
    constant = widest == 0
    widest[constant] = 1.0
    spread = (deviation / widest).std(axis=0) * widest
    standardized = []
    for name, A in zip(names, (X_train, X_test, X_synth)):
        with np.errstate(all="ignore"):
            Z = (np.ldexp(A, -exponent) - center) / spread
            Z[:, constant] = A[:, constant] - X_train[0, constant]
        if not np.isfinite(Z).all():
            raise ValueError(
                f"{name} standardised with the training rows' mean and standard "
                "deviation exceeds float64's range (some values lie beyond 1e308 "
                f"training standard deviations from the mean); {remedy}"
            )
        standardized.append(Z)
    return standardized
