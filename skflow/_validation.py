"""Validators for the counts, numbers and flags users pass to functions.

Constructor parameters are checked by scikit-learn's ``_parameter_constraints``;
this is for arguments of calls (``sample(n_samples)``, ``n_steps``, the
generators' sizes, the metrics' ``max_samples``), where sklearn's
``validate_params`` would also do but words its errors without the remedy.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ._compat import InvalidParameterError


def check_count(
    value,
    name: str,
    *,
    minimum: int = 1,
    allow_none: bool = False,
    remedy: str = "",
):
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``.

    Python and numpy integers pass; bools, floats (even ``3.0``) and strings
    raise scikit-learn's ``InvalidParameterError``, which is both a
    ``TypeError`` and a ``ValueError`` (what sklearn raises for a parameter of
    the wrong type, so either ``except`` catches it); integers below
    ``minimum`` raise ``ValueError``. Both name ``name`` and, when given, the
    ``remedy``. With ``allow_none``, None passes through as None.
    """
    if value is None and allow_none:
        return None
    wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if allow_none:
        wanted += " or None"
    tail = f"; {remedy}" if remedy else "."
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise InvalidParameterError(
            f"{name} must be {wanted}, got {value!r} of type "
            f"{type(value).__name__}{tail}"
        )
    if value < minimum:
        raise ValueError(f"{name} must be {wanted}, got {value}{tail}")
    return int(value)


def check_real(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_none: bool = False,
    remedy: str = "",
):
    """Return ``value`` as a ``float`` if it is a finite real number in range.

    Python and numpy integers and floats pass; bools, strings, complex numbers
    and arrays raise scikit-learn's ``InvalidParameterError`` (both a
    ``TypeError`` and a ``ValueError``); NaN, infinities and numbers outside
    ``[low, high]`` (open at an end whose ``*_inclusive`` is False) raise
    ``ValueError``. Both name ``name`` and, when given, the ``remedy``. With
    ``allow_none``, None passes through as None.
    """
    if value is None and allow_none:
        return None
    wanted = "a finite real number"
    if low is not None and high is not None:
        left, right = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        wanted += f" in {left}{low:g}, {high:g}{right}"
    elif low is not None:
        wanted += f" {'>=' if low_inclusive else '>'} {low:g}"
    elif high is not None:
        wanted += f" {'<=' if high_inclusive else '<'} {high:g}"
    if allow_none:
        wanted += " or None"
    tail = f"; {remedy}" if remedy else "."
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise InvalidParameterError(
            f"{name} must be {wanted}, got {value!r} of type "
            f"{type(value).__name__}{tail}"
        )
    number = float(value)
    in_range = np.isfinite(number)
    if in_range and low is not None:
        in_range = number >= low if low_inclusive else number > low
    if in_range and high is not None:
        in_range = number <= high if high_inclusive else number < high
    if not in_range:
        raise ValueError(f"{name} must be {wanted}, got {value!r}{tail}")
    return number


def check_bool(value, name: str):
    """Return ``value`` as a ``bool`` if it is a Python or numpy bool.

    Anything else (``0``, ``1``, ``"yes"``, None) raises scikit-learn's
    ``InvalidParameterError``, both a ``TypeError`` and a ``ValueError``.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(
            f"{name} must be True or False, got {value!r} of type "
            f"{type(value).__name__}."
        )
    return bool(value)
