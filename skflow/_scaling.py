"""Moments and rescaling that neither overflow nor underflow, at any scale.

Real columns can hold values near the largest float (1e300, a float32 near
3.4e38) or near the smallest (1e-300). Squaring them for a variance overflows
to infinity or underflows to zero, and summing values near 1e308 overflows
too, so a plain ``np.std`` gives ``inf`` or ``0`` for finite data of a
perfectly ordinary shape. Dividing by an exact power of two first brings every
value into ``[-1, 1]`` without rounding (barring subnormal results), so the
moments of the rescaled values are exactly those of the data, scaled; they
are then multiplied back. numpy and scikit-learn (``StandardScaler``) compute
the moments directly, hence these few lines by hand.
"""

from __future__ import annotations

import numpy as np


def scale_exponent(*arrays) -> int:
    """``e`` with the largest ``|value|`` of ``arrays`` in ``[2^(e-1), 2^e)``.

    ``np.max(np.abs(.))`` of finite values never overflows (a standard
    deviation can); 0 for all-zero or empty arrays.
    """
    largest = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    return int(np.frexp(largest)[1]) if largest > 0 else 0


def column_exponents(X: np.ndarray) -> np.ndarray:
    """:func:`scale_exponent` of each column of a 2-D float array (ints).

    NaN are ignored; a column without a finite nonzero value gets 0.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] == 0:
        return np.zeros(X.shape[1], dtype=np.int64)
    with np.errstate(invalid="ignore"):
        largest = np.nanmax(np.where(np.isfinite(X), np.abs(X), np.nan), axis=0)
    largest = np.where(np.isfinite(largest), largest, 0.0)
    return np.frexp(largest)[1].astype(np.int64)


def mean_and_std(values: np.ndarray, axis: int | None = 0):
    """The mean and (population) standard deviation of finite ``values``.

    Computed on ``values`` divided by the power of two of their largest
    magnitude (per column for ``axis=0``, of all of them for ``axis=None``)
    and multiplied back, so finite data always give a finite mean and
    spread: exact for data near 1e-300 whose squares would underflow to zero,
    and finite for data near 1e308 whose squares or sums would overflow. Both
    results are at most the largest ``|value|``.
    """
    values = np.asarray(values, dtype=np.float64)
    exponent = scale_exponent(values) if axis is None else column_exponents(values)
    unit = np.ldexp(values, -exponent)
    mean = unit.mean(axis=axis)
    std = unit.std(axis=axis)
    return np.ldexp(mean, exponent), np.ldexp(std, exponent)
