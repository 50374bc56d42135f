"""The one place that imports scikit-learn's private helpers.

scikit-learn >= 1.6 is required; if one of these moves in a later release, only this
module changes.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils._param_validation import Interval as _SklearnInterval
from sklearn.utils.validation import _check_feature_names_in, validate_data


class Interval(_SklearnInterval):
    """scikit-learn's ``Interval`` constraint that refuses bools.

    Python and numpy bools are ``Integral`` and ``Real``, so sklearn's own
    ``Interval(Integral, 1, None, closed="left")`` accepts ``max_iter=True``
    (and ``learning_rate=True`` as 1.0). A flag passed where a number belongs
    is a mistake, never a count: refuse it. The error names the rule:
    "must be an int (not a bool) in the range [1, inf). Got True instead."
    A parameter that also takes a flag lists ``"boolean"`` beside it.
    """

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)

    def __str__(self):
        text = super().__str__()
        kind, rest = text.split(" in the range ", 1)
        return f"{kind} (not a bool) in the range {rest}"


def refusing_bools(constraints):
    """``constraints`` with each of sklearn's plain Intervals made one of ours.

    For constraint lists inherited from another library (imbalanced-learn's
    ``sampling_strategy``), so that they refuse bools too.
    """
    if not isinstance(constraints, list):
        return constraints
    return [
        Interval(c.type, c.left, c.right, closed=c.closed)
        if type(c) is _SklearnInterval
        else c
        for c in constraints
    ]


__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "refusing_bools",
    "validate_data",
]
