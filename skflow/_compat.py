"""The one place that imports scikit-learn's private helpers.

scikit-learn >= 1.6 is required; if one of these moves in a later release, only this
module changes.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods as _SklearnHasMethods
from sklearn.utils._param_validation import (
    Hidden,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils._param_validation import Interval as _SklearnInterval
from sklearn.utils.validation import _check_feature_names_in
from sklearn.utils.validation import check_array as _sklearn_check_array
from sklearn.utils.validation import validate_data as _sklearn_validate_data


class HasMethods(_SklearnHasMethods):
    """scikit-learn's ``HasMethods`` constraint that refuses classes.

    A class has the methods of its instances, so sklearn's own constraint
    accepts ``sampler=GaussianMixtureSampler`` and the error comes later from
    ``clone``. The error names the rule: "must be an object implementing
    'fit' and 'sample' (an instance, not a class)".
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, type) and super().is_satisfied_by(val)

    def __str__(self):
        return f"{super().__str__()} (an instance, not a class)"


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


def check_unique_columns(X, input_name: str = "X") -> None:
    """Raise ``ValueError`` if the DataFrame ``X`` repeats a column name.

    Said here rather than by narwhals (inside sklearn's feature-name check),
    whose ``DuplicateError`` does not say what to do.
    """
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "shape"):
        return
    names = list(columns)
    seen, repeated = set(), []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise ValueError(
            f"{input_name} has duplicated column names {repeated}; rename them so "
            "that every column has its own name, e.g. X.columns = "
            "[f'{name}_{i}' for i, name in enumerate(X.columns)]."
        )


def _overflow_message(exc: OverflowError, input_name: str) -> str:
    return (
        f"{input_name} contains numbers too large for a float64 (integers beyond "
        "about 1.8e308); rescale those columns, e.g. "
        "divide them by a power of 10, or encode them as categories."
    )


# scikit-learn's input errors that name the problem but not the remedy, by a
# fragment of their message, and the remedy skflow adds.
_ENCODE = (
    "skflow's estimators read numbers: encode dates, durations, text and "
    "categories with a TabularEncoder in front, make_generative_pipeline("
    "TabularEncoder(), sampler)."
)
_INPUT_REMEDIES = (
    (
        "contains NaN",
        "Drop or impute the missing cells (skflow.impute.GenerativeImputer "
        "draws them from a model), or put a TabularEncoder in front, which "
        "models missing values: make_generative_pipeline(TabularEncoder(), "
        "sampler).",
    ),
    (
        "contains infinity",
        "Replace the infinite cells: clip them to finite values, or set them "
        "to NaN and impute or encode them.",
    ),
    ("dim <= 2 is required", "Pass a 2-D table of rows and columns."),
    ("is required", "Pass more rows (or columns), as the message says."),
    (
        "Complex data not supported",
        "Pass real numbers, e.g. the real and imaginary parts as two columns.",
    ),
    (
        "inhomogeneous",
        "Every row must have as many cells: pass a 2-D array or a DataFrame.",
    ),
    (
        "inconsistent numbers of samples",
        "X and y need one entry per row each: pass one label per row of X.",
    ),
    ("should be a 1d array", "Pass y as one label per row, e.g. y.ravel()."),
    ("could not be promoted", _ENCODE),
    ("could not convert", _ENCODE),
    ("not compatible with arrays of bytes/strings", _ENCODE),
    ("argument must be", _ENCODE),
)


def in_our_words(exc: Exception) -> Exception | None:
    """``exc`` with skflow's remedy appended, or None where none applies (the
    message already has one, or is not about the input)."""
    if isinstance(exc, InvalidParameterError):
        return None
    text = str(exc)
    if "Reshape your data" in text or any(
        remedy in text for _, remedy in _INPUT_REMEDIES
    ):
        return None  # sklearn's own remedy, or skflow's already
    for fragment, remedy in _INPUT_REMEDIES:
        if fragment in text:
            kind = ValueError if isinstance(exc, ValueError) else TypeError
            return kind(f"{text.rstrip()} {remedy}")
    return None


def validate_data(estimator, X="no_validation", y="no_validation", **kwargs):
    """scikit-learn's ``validate_data``, in skflow's words where it has none.

    Duplicated DataFrame column names and integers too large for a float64
    (Python ints beyond 1.8e308 in an object array) raise ``ValueError``
    naming the problem and the remedy, instead of narwhals' ``DuplicateError``
    and sklearn's bare ``OverflowError``; sklearn's messages about NaN,
    infinity, too few rows, the number of dimensions, complex numbers, ragged
    rows and non-numeric columns get the remedy appended.
    """
    if not isinstance(X, str):
        check_unique_columns(X, "X")
    try:
        return _sklearn_validate_data(estimator, X, y, **kwargs)
    except OverflowError as exc:
        name = "X" if isinstance(y, str) else "X or y"
        raise ValueError(_overflow_message(exc, name)) from exc
    except (TypeError, ValueError) as exc:
        explained = in_our_words(exc)
        if explained is None:
            raise
        raise explained from exc


def check_array(array, *args, input_name: str = "", **kwargs):
    """scikit-learn's ``check_array`` with the messages of :func:`validate_data`."""
    name = input_name or "X"
    check_unique_columns(array, name)
    try:
        return _sklearn_check_array(array, *args, input_name=input_name, **kwargs)
    except OverflowError as exc:
        raise ValueError(_overflow_message(exc, name)) from exc
    except (TypeError, ValueError) as exc:
        explained = in_our_words(exc)
        if explained is None:
            raise
        raise explained from exc


__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "check_array",
    "check_unique_columns",
    "refusing_bools",
    "validate_data",
    "validate_parameter_constraints",
]
