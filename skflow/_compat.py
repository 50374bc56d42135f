"""The one place that imports scikit-learn's private helpers.

scikit-learn >= 1.6 is required; if one of these moves in a later release, only this
module changes.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import _check_feature_names_in, validate_data

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "validate_data",
]
