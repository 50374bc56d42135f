"""Synthetic distributions with known structure: heavy tails, mixtures, manifolds."""

from __future__ import annotations

from numbers import Real

import numpy as np

from .._torch_utils import check_random_state
from .._validation import check_count, check_memory


def _check_number(value, name):
    """A real number (not a bool, a string or an array), or a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    return value


def _check_nonnegative(value, name):
    """A finite number >= 0 (a spread, a radius), or a clear error."""
    _check_number(value, name)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}.")
    return float(value)


def _finite(X, owner: str, parameters: str):
    """``X`` if every value is finite, else a clear error naming ``parameters``
    (parameters valid one by one can still overflow together)."""
    if not np.isfinite(X).all():
        raise ValueError(
            f"{owner} with these parameters gives values beyond the float64 "
            f"range (inf or NaN); use smaller {parameters}."
        )
    return X


def _check_size(owner: str, n_samples: int, n_features: int, extra: int = 0):
    """Refuse an output (and ``extra`` bytes of intermediate arrays, such as
    per-component factors) that cannot fit in memory, before drawing it."""
    check_memory(
        owner,
        {
            f"{n_samples} rows of {n_features} features": (
                # The rows, the noise and a temporary copy, in float64.
                3 * n_samples * n_features * 8 + n_samples * 8,
                "ask for fewer rows or features.",
            ),
            "the components' parameters": (extra, "ask for fewer components."),
        },
    )


def _check_box(center_box) -> tuple[float, float]:
    """``(low, high)``: two finite numbers with low < high."""
    try:
        low, high = center_box
    except (TypeError, ValueError):
        raise TypeError(
            f"center_box must be a pair (low, high), got {center_box!r}."
        ) from None
    low, high = _check_number(low, "center_box"), _check_number(high, "center_box")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"center_box must be two finite numbers with low < high, got "
            f"{center_box!r}."
        )
    return float(low), float(high)


def _component_labels(n_samples, n_components, rng):
    """Balanced labels: component sizes differ by at most one, then shuffled."""
    labels = np.arange(n_samples) % n_components
    rng.shuffle(labels)
    return labels


def make_gaussian_mixture(
    n_samples=1000,
    n_features=2,
    n_components=3,
    *,
    center_box=(-5.0, 5.0),
    cluster_std=1.0,
    random_state=None,
):
    """Generate rows from a mixture of Gaussians with random full covariances.

    The components have equal weights (their sizes differ by at most one row),
    means drawn uniformly in a box and correlated, anisotropic covariances:
    a multimodal benchmark with a known generating process.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.

    n_features : int, default=2
        Number of columns.

    n_components : int, default=3
        Components of equal weight.
    center_box : tuple of float, default=(-5.0, 5.0)
        Component means are uniform in this box.
    cluster_std : float, default=1.0
        Typical standard deviation within a component; each covariance is
        ``cluster_std**2 * A A^T / n_features`` for a standard normal ``A``.

    random_state : int, RandomState instance or None, default=None
        Seeds the draw; pass an int for the same rows on every call.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The rows.

    y : ndarray of shape (n_samples,)
        Component of each row.

    See Also
    --------
    make_student_t_mixture : The heavy-tailed counterpart.
    sklearn.datasets.make_blobs : Isotropic Gaussian blobs.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.datasets import make_gaussian_mixture
    >>> X, y = make_gaussian_mixture(100, n_features=2, n_components=3, random_state=0)
    >>> X.shape, np.bincount(y).tolist()
    ((100, 2), [34, 33, 33])
    """
    n_samples = check_count(n_samples, "n_samples")
    n_features = check_count(n_features, "n_features")
    n_components = check_count(n_components, "n_components")
    cluster_std = _check_nonnegative(cluster_std, "cluster_std")
    center_box = _check_box(center_box)
    _check_size(
        "make_gaussian_mixture",
        n_samples,
        n_features,
        2 * n_components * n_features * (n_features + 1) * 8,
    )
    rng = check_random_state(random_state)
    means = rng.uniform(*center_box, size=(n_components, n_features))
    factors = rng.standard_normal((n_components, n_features, n_features))
    factors *= cluster_std / np.sqrt(n_features)
    y = _component_labels(n_samples, n_components, rng)
    noise = rng.standard_normal((n_samples, n_features))
    # One matrix product per component: memory n x d, not the n x d x d of
    # gathering a factor for every row.
    X = means[y]
    for component in range(n_components):
        rows = y == component
        X[rows] += noise[rows] @ factors[component].T
    return _finite(X, "make_gaussian_mixture", "cluster_std or center_box"), y


def make_student_t_mixture(
    n_samples=1000,
    n_features=2,
    n_components=2,
    *,
    df=1.5,
    center_box=(-10.0, 10.0),
    scale=1.0,
    random_state=None,
):
    """Generate rows from a mixture of multivariate Student-t distributions.

    With ``df <= 2`` the variance is infinite and with ``df <= 1`` even the mean
    is undefined: moment-based methods and exponential critics (KL) struggle,
    which is what this dataset is for.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.

    n_features : int, default=2
        Number of columns.

    n_components : int, default=2
        Components of equal weight.

    df : float, default=1.5
        Degrees of freedom, > 0. Smaller is heavier-tailed.

    center_box : tuple of float, default=(-10.0, 10.0)
        Component centres are uniform in this box.

    scale : float, default=1.0
        Scale of each component (identity shape matrix times ``scale**2``).

    random_state : int, RandomState instance or None, default=None
        Seeds the draw; pass an int for the same rows on every call.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The rows.

    y : ndarray of shape (n_samples,)
        Component of each row.

    See Also
    --------
    make_gaussian_mixture : The light-tailed counterpart.

    Examples
    --------
    >>> from skflow.datasets import make_student_t_mixture
    >>> X, y = make_student_t_mixture(100, n_features=3, df=1.5, random_state=0)
    >>> X.shape, y.shape
    ((100, 3), (100,))
    """
    n_samples = check_count(n_samples, "n_samples")
    n_features = check_count(n_features, "n_features")
    n_components = check_count(n_components, "n_components")
    _check_number(df, "df")
    if not (np.isfinite(df) and df > 0):
        raise ValueError(
            f"df must be a finite positive number, got {df} (for the Gaussian "
            "limit of infinite df, use make_gaussian_mixture)."
        )
    scale = _check_nonnegative(scale, "scale")
    center_box = _check_box(center_box)
    _check_size(
        "make_student_t_mixture", n_samples, n_features, n_components * n_features * 8
    )
    rng = check_random_state(random_state)
    means = rng.uniform(*center_box, size=(n_components, n_features))
    y = _component_labels(n_samples, n_components, rng)
    # t = z / sqrt(chi2_df / df): a Gaussian scaled by an inverse-gamma mixing.
    z = rng.standard_normal((n_samples, n_features))
    mixing = np.sqrt(rng.chisquare(df, size=n_samples) / df)
    X = means[y] + scale * z / mixing[:, None]
    # A tiny df puts chi2 draws at zero: infinite rows.
    return _finite(X, "make_student_t_mixture", "scale or a larger df"), y


def make_sphere(
    n_samples=1000,
    n_features=50,
    *,
    intrinsic_dim=2,
    radius=1.0,
    noise=0.0,
    random_state=None,
):
    """Generate points on a low-dimensional sphere in a high-dimensional space.

    Uniform points on the unit sphere ``S^k`` in ``R^{k+1}`` (``k =
    intrinsic_dim``) are mapped into ``R^n_features`` by a random isometry (an
    orthonormal frame), so the data lie on a ``k``-dimensional manifold in every
    coordinate system.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.

    n_features : int, default=50
        Ambient dimension, at least ``intrinsic_dim + 1``.

    intrinsic_dim : int, default=2
        Dimension ``k`` of the sphere ``S^k``.

    radius : float, default=1.0
        Radius of the sphere.

    noise : float, default=0.0
        Standard deviation of isotropic Gaussian noise added in ambient space.

    random_state : int, RandomState instance or None, default=None
        Seeds the draw; pass an int for the same rows on every call.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The points.

    See Also
    --------
    make_pinwheel : A curved two-dimensional distribution, optionally embedded
        in more dimensions.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.datasets import make_sphere
    >>> X = make_sphere(100, n_features=10, intrinsic_dim=2, random_state=0)
    >>> X.shape
    (100, 10)
    >>> bool(np.allclose(np.linalg.norm(X, axis=1), 1.0))
    True
    """
    n_samples = check_count(n_samples, "n_samples")
    intrinsic_dim = check_count(intrinsic_dim, "intrinsic_dim")
    n_features = check_count(n_features, "n_features", minimum=intrinsic_dim + 1)
    radius = _check_nonnegative(radius, "radius")
    noise = _check_nonnegative(noise, "noise")
    _check_size(
        "make_sphere", n_samples, n_features, n_features * (intrinsic_dim + 1) * 16
    )
    rng = check_random_state(random_state)
    points = rng.standard_normal((n_samples, intrinsic_dim + 1))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    frame, _ = np.linalg.qr(rng.standard_normal((n_features, intrinsic_dim + 1)))
    X = radius * points @ frame.T
    if noise > 0:
        X += noise * rng.standard_normal(X.shape)
    return _finite(X, "make_sphere", "radius or noise")


def make_pinwheel(
    n_samples=1000,
    n_arms=5,
    *,
    n_features=2,
    radial_std=0.3,
    tangential_std=0.1,
    rate=0.25,
    random_state=None,
):
    """Generate the pinwheel: curved, elongated arms around the origin.

    Each arm is a Gaussian stretched along the x-axis and rotated by an angle that
    grows with the distance from the origin, so the arms spiral. With
    ``n_features > 2`` the pinwheel fills the first two coordinates and the
    others are zero: a two-dimensional distribution embedded in a
    higher-dimensional space (a low-dimensional manifold).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.

    n_arms : int, default=5
        Number of arms, of equal weight.

    n_features : int, default=2
        Number of columns, at least 2; those after the first two are zero.

    radial_std : float, default=0.3
        Spread along each arm.

    tangential_std : float, default=0.1
        Spread across each arm.

    rate : float, default=0.25
        How fast the arms curl.

    random_state : int, RandomState instance or None, default=None
        Seeds the draw; pass an int for the same rows on every call.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The rows.

    y : ndarray of shape (n_samples,)
        Arm of each row.

    See Also
    --------
    make_sphere : A sphere embedded in a high-dimensional space.

    Examples
    --------
    >>> import numpy as np
    >>> from skflow.datasets import make_pinwheel
    >>> X, y = make_pinwheel(100, n_arms=5, random_state=0)
    >>> X.shape, np.unique(y).tolist()
    ((100, 2), [0, 1, 2, 3, 4])
    """
    n_samples = check_count(n_samples, "n_samples")
    n_arms = check_count(n_arms, "n_arms")
    n_features = check_count(n_features, "n_features", minimum=2)
    radial_std = _check_nonnegative(radial_std, "radial_std")
    tangential_std = _check_nonnegative(tangential_std, "tangential_std")
    _check_number(rate, "rate")
    _check_size("make_pinwheel", n_samples, n_features)
    if not np.isfinite(rate):
        raise ValueError(f"rate must be a finite number, got {rate}.")
    rng = check_random_state(random_state)
    y = _component_labels(n_samples, n_arms, rng)
    along = rng.standard_normal(n_samples) * radial_std + 1.0
    across = rng.standard_normal(n_samples) * tangential_std
    angle = 2 * np.pi * y / n_arms + rate * np.exp(along)
    cos, sin = np.cos(angle), np.sin(angle)
    X = np.zeros((n_samples, n_features))
    X[:, 0] = cos * along - sin * across
    X[:, 1] = sin * along + cos * across
    # exp(along) overflows for a radial_std in the hundreds.
    return _finite(X, "make_pinwheel", "radial_std, tangential_std or rate"), y
