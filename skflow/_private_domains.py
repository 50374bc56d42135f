"""Column domains estimated with differential privacy, for ``TabularEncoder``.

A private pipeline needs every column's domain (the range of a number, the
levels of a category, whether it may be missing) before it reads the rows:
``TabularEncoder(domains=...)`` then computes nothing from them. When the
data owner does not know the domains, :func:`private_domains` estimates them
from the rows, spending its own ``(epsilon, delta)`` budget, split evenly over
the columns estimated (basic composition: one row is in every column).

Each column is one noisy histogram with integer (two-sided geometric, the
discrete Laplace) noise of scale ``1 / epsilon_column`` on counts of
sensitivity 1 under adding or removing a row; integer noise avoids the
floating-point attacks on the continuous Laplace (Mironov, 2012).

* A number (or date, or duration, in seconds) falls in one of a fixed, public
  set of bins: missing, zero (magnitude below ``2**-64``), and for each sign
  the magnitudes ``[2**(e-1), 2**e)`` for ``e`` in ``[-63, 1024]``. The range
  is that of the lowest and highest bins whose noisy count reaches a public
  threshold, set so that an empty bin passes it with probability at most
  1 % over all bins. The bins are public, so the release is
  ``epsilon_column``-DP; the range is within a factor of two of the data's at
  each end, and tails thinner than the threshold are left out (and clipped
  by the encoder).
* A category's levels are not known in advance: the noisy count of each
  observed level (and of missing) is released only when it reaches
  ``1 + ceil(log(1 / (delta_column * (1 + alpha))) / epsilon_column)``, with
  ``alpha = exp(-epsilon_column)``, so that a level held by one row appears
  with probability at most ``delta_column`` (a stability-based histogram;
  Bun, Nissim and Stemmer, 2016): ``(epsilon_column, delta_column)``-DP.
  A boolean's levels come from its dtype, and only its missing state is
  estimated.

Written here by hand: OpenDP and smartnoise-sql, which have such mechanisms,
are not dependencies of skflow (smartnoise does not install beside current
torch and numpy).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ._frames import column_kind

# The exponents of the magnitude bins: [2**(e-1), 2**e) for e in this range.
_LOWEST_EXPONENT, _HIGHEST_EXPONENT = -63, 1024
_N_MAGNITUDES = _HIGHEST_EXPONENT - _LOWEST_EXPONENT + 1
# Bins of a number: missing, zero, then the negative and positive magnitudes.
_N_NUMBER_BINS = 2 + 2 * _N_MAGNITUDES
# Chance that any empty bin of a number reaches the threshold.
_FALSE_BIN_CHANCE = 0.01


def discrete_laplace(epsilon: float, size, rng: np.random.Generator) -> np.ndarray:
    """Two-sided geometric noise, ``P(k) proportional to exp(-epsilon |k|)``:
    the difference of two geometric variables of success ``1 - exp(-epsilon)``.
    Added to counts of sensitivity 1, it gives ``epsilon``-DP."""
    success = -math.expm1(-epsilon)
    return rng.geometric(success, size) - rng.geometric(success, size)


def tail_at_least(epsilon: float, m: int) -> float:
    """``P(Z >= m)`` for discrete Laplace noise ``Z`` and an integer ``m >= 1``:
    ``alpha**m / (1 + alpha)``, ``alpha = exp(-epsilon)``."""
    alpha = math.exp(-epsilon)
    return alpha**m / (1 + alpha)


def level_threshold(epsilon: float, delta: float) -> int:
    """The smallest noisy count released for a level: a level held by one row
    passes it with probability at most ``delta``."""
    alpha = math.exp(-epsilon)
    return 1 + max(1, math.ceil(math.log(1 / (delta * (1 + alpha))) / epsilon))


def bin_threshold(epsilon: float) -> int:
    """The smallest noisy count of a number's bin taken into its range: an
    empty bin, among all of them, passes it with probability at most 1 %."""
    alpha = math.exp(-epsilon)
    ratio = _N_NUMBER_BINS / (_FALSE_BIN_CHANCE * (1 + alpha))
    return max(1, math.ceil(math.log(ratio) / epsilon))


def number_bins(values: np.ndarray) -> np.ndarray:
    """The bin of each value (float64, NaN for missing), numbered in the order
    of the values: 0 missing; ``1`` to ``_N_MAGNITUDES`` the negative
    magnitudes from the largest down; ``_N_MAGNITUDES + 1`` zero (magnitudes
    below ``2**-64``); then the positive magnitudes from the smallest up."""
    missing = np.isnan(values)
    magnitude = np.abs(np.where(missing, 0.0, values))
    nonzero = magnitude >= 2.0 ** (_LOWEST_EXPONENT - 1)
    # frexp: magnitude = m * 2**e with m in [0.5, 1), i.e. [2**(e-1), 2**e).
    exponent = np.frexp(magnitude)[1]
    offset = np.clip(exponent, _LOWEST_EXPONENT, _HIGHEST_EXPONENT) - _LOWEST_EXPONENT
    bins = np.full(values.shape, _N_MAGNITUDES + 1, dtype=np.int64)
    negative = nonzero & (values < 0)
    positive = nonzero & (values > 0)
    bins[negative] = _N_MAGNITUDES - offset[negative]
    bins[positive] = _N_MAGNITUDES + 2 + offset[positive]
    bins[missing] = 0
    return bins


def bin_edges(index: int) -> tuple[float, float]:
    """The interval ``(low, high)`` of a number's bin (not the missing one)."""
    if index <= _N_MAGNITUDES:
        exponent = _LOWEST_EXPONENT + _N_MAGNITUDES - index
        return -_power_of_two(exponent), -_power_of_two(exponent - 1)
    if index == _N_MAGNITUDES + 1:
        zero = _power_of_two(_LOWEST_EXPONENT - 1)
        return -zero, zero
    exponent = _LOWEST_EXPONENT + index - _N_MAGNITUDES - 2
    return _power_of_two(exponent - 1), _power_of_two(exponent)


def _power_of_two(exponent: int) -> float:
    # 2**1024 overflows a float: the largest float stands for it.
    return np.finfo(np.float64).max if exponent >= 1024 else math.ldexp(1.0, exponent)


def noisy_number_domain(values, epsilon, rng, name):
    """``(low, high, missing)`` of a number column (float64, NaN missing)."""
    counts = np.bincount(number_bins(values), minlength=_N_NUMBER_BINS)
    noisy = counts + discrete_laplace(epsilon, counts.shape, rng)
    threshold = bin_threshold(epsilon)
    kept = np.flatnonzero(noisy[1:] >= threshold) + 1
    if kept.size == 0:
        raise ValueError(
            f"Column {name!r}: no range could be estimated privately (no bin "
            f"of its values reached the {threshold} noisy rows needed at "
            f"epsilon {epsilon:.3g} per column); give its domain in known=, "
            "raise epsilon, or use more rows."
        )
    low, high = bin_edges(int(kept[0]))[0], bin_edges(int(kept[-1]))[1]
    return low, high, bool(noisy[0] >= threshold)


def noisy_levels(values, epsilon, delta, rng, name):
    """``(levels, missing)`` of a category column (object, None missing)."""
    import pandas as pd

    series = pd.Series(values, dtype=object)
    missing = series.isna().to_numpy()
    counts = series[~missing].value_counts(sort=False)
    levels = counts.index.to_numpy(dtype=object)
    observed = np.append(counts.to_numpy(), missing.sum())
    noisy = observed + discrete_laplace(epsilon, observed.shape, rng)
    threshold = level_threshold(epsilon, delta)
    released = noisy >= threshold
    kept = levels[released[:-1]]
    if kept.size == 0:
        raise ValueError(
            f"Column {name!r}: no level could be released privately (none "
            f"reached the {threshold} noisy rows needed at epsilon {epsilon:.3g} "
            "per column); give its domain in known=, raise epsilon or delta, or "
            "use more rows."
        )
    return kept.tolist(), bool(released[-1])


def private_domains(X, *, epsilon, delta=1e-6, known=None, random_state=None):
    """Estimate every column's domain with differential privacy.

    For ``TabularEncoder(domains=...)`` when the data owner does not know the
    domains: the ranges of numbers, dates and durations, the levels of
    categories, and which columns may be missing, estimated from the rows of
    ``X`` under an ``(epsilon, delta)`` budget of their own. The private fit
    after it spends its own budget too: by basic composition the whole
    release (domains, then model) is ``(epsilon + epsilon_fit, delta +
    delta_fit)``-DP.

    Read more in the :ref:`User Guide <privacy>`.

    Parameters
    ----------
    X : DataFrame
        The rows. Only the columns not in ``known`` are read.

    epsilon : float
        Budget of the estimate, > 0, split evenly over the columns estimated.

    delta : float, default=1e-6
        In (0, 1), split the same way; spent by category columns only (their
        levels are not known in advance).

    known : dict or None, default=None
        Domains the owner already knows (public metadata, as
        ``TabularEncoder(domains=...)`` takes them): copied into the result,
        and their columns neither read nor charged.

    random_state : int, numpy Generator or None, default=None
        Seeds the noise. For a real release leave it None: a known seed lets
        anyone subtract the noise.

    Returns
    -------
    domains : dict
        Column name -> ``{"range": (low, high), "missing": bool}`` (a number,
        date or duration; dates and durations as pandas Timestamps and
        Timedeltas) or ``{"levels": [...], "missing": bool}`` (a category or
        boolean), ready for ``TabularEncoder(domains=...)``.

    Raises
    ------
    ValueError
        If a column's range or levels cannot be estimated at this budget (too
        few rows in every bin): give it in ``known``, raise ``epsilon``, or use
        more rows.

    Notes
    -----
    Ranges are coarse on purpose: the bins are powers of two, so a range is
    within a factor of two of the data's at each end, and values in bins
    thinner than the threshold (about ``log(200,000) / epsilon_column``
    rows) are left out; the encoder clips them onto the range. See the
    module :mod:`skflow._private_domains` for the mechanisms.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skflow.privacy import private_domains
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"age": rng.integers(18, 90, 5000),
    ...                   "smoker": rng.choice(["yes", "no"], 5000)})
    >>> domains = private_domains(X, epsilon=1.0, random_state=0)
    >>> domains["age"]["range"], sorted(domains["smoker"]["levels"])
    ((16.0, 128.0), ['no', 'yes'])
    """
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            "private_domains reads a DataFrame (its columns' names and dtypes "
            f"say what each domain is), got {type(X).__name__}."
        )
    _check_budget(epsilon, delta)
    known = dict(known or {})
    unknown = [name for name in X.columns if name not in known]
    extra = [name for name in known if name not in X.columns]
    if extra:
        raise ValueError(f"known names columns that X does not have: {extra}.")
    if not unknown:
        return known
    rng = np.random.default_rng(random_state)
    column_epsilon = float(epsilon) / len(unknown)
    column_delta = float(delta) / len(unknown)
    domains = {}
    for name in X.columns:
        if name in known:
            domains[name] = known[name]
            continue
        domains[name] = _column_domain(X[name], column_epsilon, column_delta, rng, name)
    return domains


def _column_domain(column, epsilon, delta, rng, name) -> dict:
    """One column's private domain (see :func:`private_domains`)."""
    import pandas as pd

    kind = column_kind(column.dtype)
    if kind == "bool":
        noisy = int(column.isna().sum()) + int(discrete_laplace(epsilon, 1, rng)[0])
        return {"levels": [False, True], "missing": noisy >= bin_threshold(epsilon)}
    if kind == "category":
        levels, missing = noisy_levels(
            column.to_numpy(dtype=object), epsilon, delta, rng, name
        )
        return {"levels": levels, "missing": missing}
    if kind in ("float", "int"):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        low, high, missing = noisy_number_domain(values, epsilon, rng, name)
        return {"range": (low, high), "missing": missing}
    if kind in ("datetime", "timedelta"):
        zone = getattr(column.dtype, "tz", None)
        if kind == "datetime":
            naive = column.dt.tz_convert("UTC").dt.tz_localize(None) if zone else column
            elapsed = naive - pd.Timestamp(0)
        else:
            elapsed = column
        # Seconds, whatever the column's resolution; NaN where missing.
        seconds = (elapsed / pd.Timedelta(seconds=1)).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        low, high, missing = noisy_number_domain(seconds, epsilon, rng, name)
        # Clipped to what 64-bit nanoseconds hold (years 1678 to 2261).
        ends = np.clip([low, high], -9.2e9, 9.2e9)
        if kind == "timedelta":
            return {
                "range": tuple(pd.Timedelta(seconds=end) for end in ends),
                "missing": missing,
            }
        stamps = [pd.Timestamp(end, unit="s") for end in ends]
        if zone is not None:
            stamps = [stamp.tz_localize("UTC").tz_convert(zone) for stamp in stamps]
        return {"range": tuple(stamps), "missing": missing}
    raise TypeError(
        f"Column {name!r} of dtype {column.dtype} has no domain form; give its "
        "domain in known= or drop it."
    )


def _check_budget(epsilon, delta) -> None:
    for value, name, high in ((epsilon, "epsilon", math.inf), (delta, "delta", 1.0)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a number, got {value!r}.")
        if not 0 < float(value) < high:
            where = "positive and finite" if name == "epsilon" else "in (0, 1)"
            raise ValueError(f"{name} must be {where}, got {value!r}.")
