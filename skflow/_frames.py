"""DataFrame and container round trips shared by the encoders, the class-
conditional samplers, the metrics and the plots.

pandas is imported only inside the functions that need it: skflow works on
numpy arrays without pandas installed.
"""

from __future__ import annotations

import numpy as np


def column_kind(dtype) -> str | None:
    """``"float"``, ``"int"``, ``"bool"``, ``"category"``, ``"datetime"``,
    ``"timedelta"`` or None (unsupported)."""
    import pandas as pd
    from pandas.api import types

    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if types.is_integer_dtype(dtype):
        return "int"
    if types.is_float_dtype(dtype):
        return "float"
    if types.is_object_dtype(dtype) or types.is_string_dtype(dtype):
        return "category"
    return None


def cast_numeric_column(values, dtype, low=None, high=None) -> np.ndarray:
    """Continuous ``values`` as an array ready for a column of ``dtype``.

    For an integer ``dtype``: rounded to the nearest integer, clipped to
    ``[low, high]`` when given and always to the dtype's own range; for a
    boolean one: thresholded at 0.5 (a plain ``astype`` would truncate integers
    toward zero and turn every non-zero value True). Other dtypes: float64.
    """
    values = np.asarray(values, dtype=np.float64)
    kind = column_kind(dtype)
    if kind == "bool":
        values = values > 0.5
    elif kind == "int":
        numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))
        info = np.iinfo(numpy_dtype)
        low = info.min if low is None else max(low, info.min)
        high = info.max if high is None else min(high, info.max)
        values = np.clip(np.rint(values), low, high).astype(numpy_dtype)
    return values


def beyond_float_dtypes(rows: np.ndarray, dtypes) -> list[int]:
    """Indices of the columns of float64 ``rows`` whose values exceed the
    largest finite value of a narrower float dtype in ``dtypes`` (float32 near
    3.4e38, float16 near 65504): cast, they would be ``inf``."""
    beyond = []
    for index, dtype in enumerate(dtypes):
        dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))
        if dtype.kind == "f" and dtype.itemsize < 8:
            if np.abs(rows[:, index]).max(initial=0.0) > np.finfo(dtype).max:
                beyond.append(index)
    return beyond


def float_range_message(owner: str, columns: list, dtype, *, frame=True) -> str:
    """The error for :func:`beyond_float_dtypes`: what, where, and the remedy
    (``columns`` are names in a DataFrame, else positions in an array)."""
    dtype = np.dtype(dtype)
    casts = ", ".join(f"{column!r}: 'float64'" for column in columns[:3])
    cast = f"X.astype({{{casts}}})" if frame else "X.astype('float64')"
    return (
        f"{owner} generated values beyond the largest {dtype} "
        f"({np.finfo(dtype).max:.5g}) in columns {columns}, whose real values lie "
        f"near that edge; fit on those columns as float64 ({cast}), "
        "or through make_generative_pipeline(TabularEncoder(), sampler), whose "
        "decoding keeps values within the range seen in fit."
    )


def is_dataframe(X) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def align_columns(X, Y):
    """``Y`` with its columns in ``X``'s order when both are DataFrames.

    Two tables are compared column by column by name, not by position; tables
    with different columns raise.
    """
    if not (hasattr(X, "columns") and hasattr(Y, "columns")):
        return Y
    x_names, y_names = list(X.columns), list(Y.columns)
    if x_names == y_names:
        return Y
    if len(x_names) != len(y_names) or set(x_names) != set(y_names):
        only_x = [c for c in x_names if c not in y_names]
        only_y = [c for c in y_names if c not in x_names]
        raise ValueError(
            "The two DataFrames have different columns (only in the first: "
            f"{only_x[:10]}; only in the second: {only_y[:10]}); pass rows of the "
            "same columns."
        )
    return Y[x_names]


def mixed_encoder(reference):
    """A TabularEncoder fitted on ``reference``, or None when it needs none.

    None for an array and for a DataFrame of complete numbers (int, float and
    bool columns without missing values), which the metrics take as they are.
    """
    if not is_dataframe(reference):
        return None
    numeric = all(
        column_kind(dtype) in ("float", "int", "bool") for dtype in reference.dtypes
    )
    if numeric and not reference.isna().any().any():
        return None
    from .encoders import TabularEncoder

    return TabularEncoder().fit(reference)


def encoded_if_mixed(reference, *others):
    """The tables as they are, or encoded by a TabularEncoder fitted on
    ``reference`` when it is a DataFrame that is not all complete numbers.

    Returns the (possibly encoded) ``reference``, then ``others``, then the
    encoded column names (None when nothing was encoded). Lets the metrics and
    plots take a mixed table as it is.
    """
    encoder = mixed_encoder(reference)
    if encoder is None:
        return (reference, *others, None)
    encoded = [
        encoder.transform(align_columns(reference, table))
        for table in (reference, *others)
    ]
    return (*encoded, [str(name) for name in encoder.get_feature_names_out()])
