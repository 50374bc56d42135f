"""Declared column domains for ``TabularEncoder(domains=...)``.

A domain is public metadata about a column: the range of a number, a date or
a duration, the levels of a category, and whether the column may be missing.
An encoder built from domains alone computes nothing from the rows, which is
what a differentially private pipeline needs: every statistic of the rows
(category sets, means, spreads, quantiles, point masses, precision) would
otherwise be released without being accounted in the privacy budget.

:func:`parse_domains` checks the user's ``domains`` against the schema of
``X`` (column names and dtypes, never values) and normalises each entry to a
:class:`Domain`.
"""

from __future__ import annotations

from numbers import Real
from typing import NamedTuple

import numpy as np

from .._frames import column_kind
from ._columns import _recorded_step

# The kinds whose domain is a range (a date or duration as seconds).
RANGE_KINDS = ("float", "int", "datetime", "timedelta")
# The kinds whose domain is a list of levels.
LEVEL_KINDS = ("category", "bool")
# The keys of the dict form of a domain.
_DICT_KEYS = {"range", "levels", "missing", "step", "masses"}
# Nanoseconds per unit of the time resolutions pandas supports.
UNIT_NANOSECONDS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
# The decoding grid of each resolution, as (step in seconds, decimals); None
# for nanoseconds, the resolution the decoded seconds are converted at anyway.
_UNIT_STEPS = {"s": (1.0, 0), "ms": (1e-3, 3), "us": (1e-6, 6), "ns": None}
_FORMS = (
    "(low, high) for a number, date or duration; a list of levels for a "
    "category or boolean; or a dict {'range': (low, high), 'missing': True} "
    "or {'levels': [...], 'missing': True} for a column that may be missing "
    "(and {'range': (low, high), 'step': 0.5} for a number recorded on a grid)"
)


class Domain(NamedTuple):
    """One column's declared domain, normalised.

    ``low`` and ``high`` are floats (seconds since the epoch, in UTC, for a
    date; seconds for a duration) for a range kind, None otherwise; ``levels``
    is an object array for a level kind, None otherwise; ``step`` is the
    decoding grid ``(step, decimals)`` given by the dtype (whole numbers for
    integers, the time resolution for dates and durations) or declared, or
    None; ``masses`` are a number's declared point masses.
    """

    kind: str
    low: float | None
    high: float | None
    levels: np.ndarray | None
    missing: bool
    step: tuple[float, int] | None
    masses: tuple = ()


def parse_domains(domains: dict, names: list, dtypes: list) -> dict:
    """Each column's :class:`Domain`, in the order of ``names``.

    ``dtypes`` are the columns' dtypes (None for the columns of a numeric
    array, taken as float). Raises when a column has no entry, an entry names
    no column, or an entry does not fit its column's dtype.
    """
    absent = [name for name in names if name not in domains]
    if absent:
        raise ValueError(
            f"domains has no entry for the columns {absent[:10]}: a "
            "TabularEncoder fitted from domains needs the public domain of every "
            f"column, {_FORMS}."
        )
    known = set(names)
    unknown = [key for key in domains if key not in known]
    if unknown:
        raise ValueError(
            f"domains names columns {unknown[:10]} that X does not have (its "
            f"columns are {list(names)[:10]}); fix the names or drop those entries."
        )
    return {
        name: _parse_one(name, domains[name], dtype)
        for name, dtype in zip(names, dtypes)
    }


def _parse_one(name, spec, dtype) -> Domain:
    kind = "float" if dtype is None else column_kind(dtype)
    missing = False
    numeric_levels = False
    if isinstance(spec, dict):
        extra = sorted(map(str, set(spec) - _DICT_KEYS))
        if extra:
            raise ValueError(
                f"domains[{name!r}] has the keys {extra}, which a domain does not "
                "take; use 'range' or 'levels', and 'missing'."
            )
        missing = spec.get("missing", False)
        if not isinstance(missing, (bool, np.bool_)):
            raise TypeError(
                f"domains[{name!r}]['missing'] must be True or False, got {missing!r}."
            )
        missing = bool(missing)
        key, other = ("range", "levels") if kind in RANGE_KINDS else ("levels", "range")
        if kind in ("float", "int") and "levels" in spec and "range" not in spec:
            # A number with a few declared values (a rating scale, codes).
            key, other = "levels", "range"
            numeric_levels = True
        if other in spec:
            raise ValueError(
                f"Column {name!r} is {_describe(kind, dtype)}: its domain takes "
                f"{key!r}, not {other!r}."
            )
        if key not in spec:
            raise ValueError(
                f"Column {name!r} is {_describe(kind, dtype)}: its domain needs "
                f"{key!r}, got the keys {sorted(map(str, spec))}."
            )
        declared_step = spec.get("step")
        declared_masses = spec.get("masses")
        if declared_masses is not None and (
            kind not in ("float", "int") or numeric_levels
        ):
            raise ValueError(
                f"Column {name!r} is {_describe(kind, dtype)}: 'masses' is for a "
                "numeric column given as a range."
            )
        if declared_step is not None and kind not in ("float", "int"):
            raise ValueError(
                f"Column {name!r} is {_describe(kind, dtype)}: 'step' is for "
                "numeric columns (dates and durations decode at their dtype's "
                "resolution)."
            )
        spec = spec[key]
    else:
        declared_step = declared_masses = None
    if missing and not _holds_missing(dtype):
        raise ValueError(
            f"domains declares that column {name!r} may be missing, but its dtype "
            f"{dtype} cannot hold missing values; declare it without 'missing' or "
            "convert the column to a nullable dtype (e.g. 'Int64', 'boolean')."
        )
    if numeric_levels:
        if declared_step is not None:
            raise ValueError(
                f"domains[{name!r}] gives both levels and a step; the levels "
                "already are the values the column decodes to."
            )
        levels = _parse_numeric_levels(name, spec, kind, dtype)
        return Domain(kind, None, None, levels, missing, None)
    if kind in RANGE_KINDS:
        low, high, step = _parse_range(name, spec, kind, dtype)
        if declared_step is not None:
            step = _parse_step(name, declared_step, kind, low, high)
        masses = ()
        if declared_masses is not None:
            masses = _parse_masses(name, declared_masses, low, high)
        return Domain(kind, low, high, None, missing, step, masses)
    levels = _parse_levels(name, spec, kind, dtype)
    return Domain(kind, None, None, levels, missing, None)


def _describe(kind: str, dtype) -> str:
    what = {
        "float": "numeric",
        "int": "an integer column",
        "datetime": "a date column",
        "timedelta": "a duration column",
        "bool": "a boolean column",
        "category": "a categorical column",
    }[kind]
    return what if dtype is None else f"{what} ({dtype})"


def _holds_missing(dtype) -> bool:
    """Whether a column of ``dtype`` can hold a missing value (NumPy integer
    and boolean columns cannot; every other dtype has a marker)."""
    return not (isinstance(dtype, np.dtype) and dtype.kind in "biu")


def _is_sequence(spec) -> bool:
    import pandas as pd

    return isinstance(spec, (list, tuple, np.ndarray, pd.Index, pd.Series))


def _parse_range(name, spec, kind, dtype):
    if not _is_sequence(spec) or len(spec) != 2:
        hint = (
            " To treat its values as levels, convert the column to a category "
            "first (X[col].astype('category')), or declare "
            "{'levels': [...]} for it."
            if kind in ("float", "int") and _is_sequence(spec)
            else ""
        )
        raise TypeError(
            f"Column {name!r} is {_describe(kind, dtype)}: give its domain as a "
            f"pair (low, high), got {_short(spec)}.{hint}"
        )
    if kind in ("datetime", "timedelta"):
        low, high = (_to_nanoseconds(name, bound, kind, dtype) for bound in spec)
        unit = time_unit(dtype)
        size = UNIT_NANOSECONDS.get(unit, 1)
        # Inside the range at the column's resolution: the decoded values are
        # on that grid and kept between the bounds.
        low, high = -(-low // size) * size, high // size * size
        if low >= high:
            raise ValueError(
                f"domains[{name!r}] must have low < high (at the column's "
                f"resolution, {unit}), got {tuple(spec)!r}; widen the range."
            )
        return low / 1e9, high / 1e9, _UNIT_STEPS.get(unit)
    for bound in spec:
        if isinstance(bound, (bool, np.bool_)) or not isinstance(bound, Real):
            raise TypeError(
                f"The bounds of domains[{name!r}] must be numbers, got "
                f"{bound!r} ({type(bound).__name__})."
            )
    low, high = float(spec[0]), float(spec[1])
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(
            f"The bounds of domains[{name!r}] must be finite, got {tuple(spec)!r}; "
            "give the range the column's values can take."
        )
    if low >= high:
        raise ValueError(
            f"domains[{name!r}] must have low < high, got {tuple(spec)!r}; give "
            "the range (low, high) of the column's possible values."
        )
    if not np.isfinite(high - low):
        raise ValueError(
            f"The range of domains[{name!r}] is too wide for float64 arithmetic "
            f"({tuple(spec)!r}); narrow it."
        )
    if kind == "int":
        if not (low.is_integer() and high.is_integer()):
            raise ValueError(
                f"Column {name!r} has the integer dtype {dtype}: give whole-number "
                f"bounds, got {tuple(spec)!r}."
            )
        return low, high, (1.0, 0)
    return low, high, None


def _parse_numeric_levels(name, spec, kind, dtype) -> np.ndarray:
    """The declared values of a numeric column, as floats (whole numbers for
    an integer dtype), in the order given."""
    if not _is_sequence(spec) or len(spec) == 0:
        raise TypeError(
            f"domains[{name!r}]['levels'] must be a non-empty list of the "
            f"column's possible values, got {_short(spec)}."
        )
    bad = [
        v for v in spec if isinstance(v, (bool, np.bool_)) or not isinstance(v, Real)
    ]
    if bad:
        raise TypeError(
            f"Column {name!r} is {_describe(kind, dtype)}: its levels must be "
            f"numbers, got {bad[0]!r}."
        )
    values = np.asarray(spec, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(
            f"The levels of domains[{name!r}] must be finite numbers; declare a "
            "missing value with 'missing': True."
        )
    if kind == "int" and not np.all(values == np.round(values)):
        raise ValueError(
            f"Column {name!r} has an integer dtype: its levels must be whole numbers."
        )
    if np.unique(values).size != values.size:
        raise ValueError(
            f"domains[{name!r}] lists a level more than once; list each once."
        )
    levels = np.empty(values.size, dtype=object)
    levels[:] = [int(v) if kind == "int" else float(v) for v in values]
    return levels


def _parse_masses(name, masses, low, high) -> tuple:
    """Declared point masses of a number: distinct finite values in its range."""
    if not _is_sequence(masses) or len(masses) == 0:
        raise TypeError(
            f"domains[{name!r}]['masses'] must be a non-empty list of values, "
            f"got {_short(masses)}."
        )
    if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, Real) for v in masses):
        raise TypeError(f"domains[{name!r}]['masses'] must be numbers.")
    values = np.asarray(masses, dtype=np.float64)
    if np.unique(values).size != values.size:
        raise ValueError(f"domains[{name!r}]['masses'] lists a value more than once.")
    if not np.all((values >= low) & (values <= high)):
        raise ValueError(
            f"domains[{name!r}]['masses'] must lie in its range ({low!r}, {high!r})."
        )
    return tuple(float(v) for v in values)


def _parse_step(name, step, kind, low, high) -> tuple[float, int]:
    """A declared grid ``step`` (values decode to multiples of it, counted
    from zero) as ``(step, decimals)``."""
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, Real):
        raise TypeError(
            f"domains[{name!r}]['step'] must be a positive number, got {step!r}."
        )
    step = float(step)
    if not (np.isfinite(step) and step > 0):
        raise ValueError(
            f"domains[{name!r}]['step'] must be a positive number, got {step!r}."
        )
    if kind == "int" and not step.is_integer():
        raise ValueError(
            f"Column {name!r} has an integer dtype: its step must be a whole "
            f"number, got {step!r}."
        )
    grid = _recorded_step(np.array([step]))
    if grid is None:
        raise ValueError(
            f"domains[{name!r}]['step'] = {step!r} has more decimals than the "
            "encoder rounds to; give a step such as 0.01 or 0.5."
        )
    if step > high - low:
        raise ValueError(
            f"domains[{name!r}]['step'] = {step!r} is wider than its range "
            f"({low!r}, {high!r}); give a smaller step or a wider range."
        )
    return step, grid[1]


def time_unit(dtype) -> str:
    """The resolution of a date or duration dtype: "s", "ms", "us" or "ns"."""
    unit = getattr(dtype, "unit", None)
    if unit is None:
        unit = getattr(getattr(dtype, "pyarrow_dtype", None), "unit", None)
    if unit is None:
        try:
            unit = np.datetime_data(np.dtype(dtype))[0]
        except TypeError:
            unit = "ns"
    return unit


def _time_zone(dtype):
    tz = getattr(dtype, "tz", None)
    if tz is None:
        tz = getattr(getattr(dtype, "pyarrow_dtype", None), "tz", None)
    return tz


def _to_nanoseconds(name, bound, kind, dtype) -> int:
    """A date bound as nanoseconds since the epoch in UTC (naive bounds of a
    time-zone-aware column are read in its zone); a duration's in nanoseconds."""
    import pandas as pd

    what = "a date" if kind == "datetime" else "a duration"
    example = "'2024-01-31'" if kind == "datetime" else "'30 days'"
    if isinstance(bound, (bool, np.bool_, Real)):
        # A bare number has no unit: nanoseconds, seconds and days all look the
        # same.
        raise TypeError(
            f"The bounds of domains[{name!r}] ({_describe(kind, dtype)}) must be "
            f"{what}, as a string like {example} or a pandas "
            f"{'Timestamp' if kind == 'datetime' else 'Timedelta'}; got the "
            f"number {bound!r}."
        )
    try:
        value = pd.Timestamp(bound) if kind == "datetime" else pd.Timedelta(bound)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The bound {bound!r} of domains[{name!r}] is not {what} ({exc}); give "
            f"a string like {example}."
        ) from exc
    if pd.isna(value):
        raise ValueError(
            f"The bounds of domains[{name!r}] must be {what}, got a missing value "
            f"({bound!r})."
        )
    if kind == "timedelta":
        return int(value.as_unit("ns").value)
    tz = _time_zone(dtype)
    if tz is not None:
        value = value.tz_localize(tz) if value.tz is None else value.tz_convert(tz)
        value = value.tz_convert("UTC").tz_localize(None)
    elif value.tz is not None:
        raise ValueError(
            f"Column {name!r} has time-zone-naive dates ({dtype}), but the bound "
            f"{bound!r} of its domain has a time zone; give naive bounds."
        )
    try:
        return int(value.as_unit("ns").value)
    except (OverflowError, ValueError) as exc:
        raise ValueError(
            f"The bound {bound!r} of domains[{name!r}] lies outside the dates "
            f"TabularEncoder can encode (1677 to 2262): {exc}."
        ) from exc


def _parse_levels(name, spec, kind, dtype) -> np.ndarray:
    import pandas as pd

    if not _is_sequence(spec):
        unordered = isinstance(spec, (set, frozenset))
        raise TypeError(
            f"Column {name!r} is {_describe(kind, dtype)}: give its domain as a "
            f"list of levels, got {_short(spec)}"
            + (
                " (a set has no fixed order, and the order of the levels is the "
                "order of the encoded columns)."
                if unordered
                else "."
            )
        )
    levels = np.empty(len(spec), dtype=object)
    levels[:] = list(spec)
    if levels.size == 0:
        raise ValueError(
            f"domains[{name!r}] has no levels; list the values the column can take."
        )
    absent = pd.isna(levels)
    if absent.any():
        raise ValueError(
            f"domains[{name!r}] lists a missing value ({levels[absent][0]!r}) as a "
            f"level; declare {{'levels': [...], 'missing': True}} instead."
        )
    try:
        duplicated = pd.Index(levels, dtype=object).duplicated()
    except TypeError as exc:
        raise TypeError(
            f"The levels of domains[{name!r}] must be hashable values: {exc}."
        ) from exc
    if duplicated.any():
        raise ValueError(
            f"domains[{name!r}] lists the levels {list(levels[duplicated])[:10]} "
            "more than once; list each level once."
        )
    if kind == "bool":
        flags = np.array([isinstance(v, (bool, np.bool_)) for v in levels])
        if not flags.all():
            raise TypeError(
                f"Column {name!r} is {_describe(kind, dtype)}: its levels must be "
                f"True and/or False, got {levels[~flags][0]!r}."
            )
        levels[:] = [bool(v) for v in levels]
    elif isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None:
        outside = pd.Index(dtype.categories).get_indexer(levels) < 0
        if outside.any():
            raise ValueError(
                f"domains[{name!r}] lists {list(levels[outside])[:10]}, which are "
                f"not categories of the column's dtype ({list(dtype.categories)[:10]}"
                "); decoded values must be categories of the dtype. Drop those "
                "levels or add them to the dtype's categories."
            )
    elif dtype is not None and _is_string_dtype(dtype):
        strings = np.array([isinstance(v, str) for v in levels])
        if not strings.all():
            raise TypeError(
                f"Column {name!r} has the string dtype {dtype}: its levels must be "
                f"strings, got {levels[~strings][0]!r}."
            )
    return levels


def _is_string_dtype(dtype) -> bool:
    import pandas as pd

    if isinstance(dtype, pd.StringDtype):
        return True
    arrow = getattr(dtype, "pyarrow_dtype", None)
    return arrow is not None and str(arrow) in ("string", "large_string")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
