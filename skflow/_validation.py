"""One validator for the counts users pass to functions and methods.

Constructor parameters are checked by scikit-learn's ``_parameter_constraints``;
this is for arguments of calls (``sample(n_samples)``, ``n_steps``, the
generators' sizes, the metrics' ``max_samples``), where sklearn's
``validate_params`` would also do but words its errors without the remedy.
"""

from __future__ import annotations

from numbers import Integral

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
