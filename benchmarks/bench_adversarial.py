"""Adversarial outcome matrix: bad input and bad parameters thrown at every
public estimator and function of skflow, and each case's outcome classified.

What it does
------------
Cases are generated systematically, not written one by one:

* every constructor parameter of every estimator (read from its
  ``_parameter_constraints``) x a set of bad values chosen by the kind of
  constraint (int, real, string option, flag, tuple, seed, device, sampler...);
* every estimator x bad inputs (empty, one row, 1-D, 3-D, NaN, inf, strings,
  object, bool, complex, huge int64, 1e300 / 1e-300 scales, narrow float
  DataFrame columns near their dtype maximum, datetime and mixed columns,
  duplicated column names, lists, sparse matrices, Series, constant columns,
  10,000 columns, ...), and bad labels ``y`` for the estimators that take them;
* ``sample`` arguments (``n_samples``, ``random_state``, ``conditions``, the
  wrappers' ``y`` and ``groups``, ``ProximalMFGFlow``'s ``n_steps``), and
  calls on unfitted estimators;
* every function of ``skflow.metrics`` and ``skflow.datasets`` (keyword
  arguments read from their signatures, bad arrays in the positional ones);
* ``skflow.save`` / ``skflow.load`` (bad paths, keys and objects, damaged or
  tampered archives, and a round trip of every estimator);
* the command line ``skflow fit-sample`` (bad files, bad option values), run
  through ``skflow.cli.main`` with ``SKFLOW_DEBUG=1`` so that errors keep their
  traceback.

Every fit uses small settings (``max_iter`` 3-5, ``hidden_layer_sizes=(8,)``,
40-60 rows, 3 columns): the point is input handling, not quality.

Outcome classes
---------------
clear error
    An exception whose type is skflow's own (``skflow.exceptions``, the CLI's
    ``CommandLineError``) or scikit-learn's ``InvalidParameterError``, or a
    subclass of ``ValueError``, ``TypeError``, ``MemoryError``, ``OSError`` or
    ``NotImplementedError``; whose last traceback frame is inside ``skflow/``
    or in scikit-learn's parameter validation
    (``sklearn/utils/_param_validation.py``; sklearn's ``NotFittedError`` from
    ``check_is_fitted`` is accepted too, the scikit-learn contract for a call
    before ``fit``, and so are scikit-learn's input checks whose message gives
    the remedy itself, listed in ``SKLEARN_REMEDIES``: "Reshape your data
    ...", "Use '.toarray()' ..."); and whose message names the problem: it mentions the
    parameter or argument, the input (``X``, a column, rows...), or a remedy
    word ("must", "use", "expected", ...). For the command line, an argparse
    usage error (exit status 2 naming the option) is clear.
valid
    No exception, and a correct result. Samplers: ``sample(5)`` gives 5 rows
    of ``n_features_in_`` columns (the input's count), in the container and
    dtypes of ``doc/sampler_contract.md`` (a float64 ndarray for arrays; for
    DataFrames the same columns, float columns in their dtype, int and bool
    ones as float64, and every dtype kept behind a ``TabularEncoder``); finite,
    except NaN in a column that held NaN in the input when the model supports
    missing values (``allow_nan`` tag); not beyond 100 data ranges of the
    training column and not collapsed to one value. Conditions: the rows meet
    them. Transformers: finite output of the right shape, and
    ``inverse_transform`` back to the input's shape. Metrics: a finite float
    (reports: every value finite). Datasets: a finite 2-D array of the asked
    shape. Persistence: the loaded model draws the same rows as the saved one,
    and damaged or tampered files are refused.
unclear
    An exception raised inside a dependency (last frame outside skflow:
    torch, numpy, pandas, narwhals, scipy, scikit-learn other than parameter
    validation, the standard library); any bare ``KeyError``, ``IndexError``,
    ``AttributeError``, ``ZeroDivisionError`` or ``RuntimeError`` (any type
    outside the clear list), wherever raised; a message that names nothing;
    or a child process that died (a signal: a segfault, or memory; each case
    runs under an address-space cap, ``--mem-cap-gib``, so that a request
    skflow should have refused before allocating fails there instead of
    exhausting the machine).
silent wrong
    No exception, but non-finite values, the wrong shape, container or dtype,
    values far outside the data's range, a collapsed column, a condition not
    met, a metric NaN or inf, a loaded model that differs, or a damaged file
    that loads.
hang
    Still running at the per-case limit (``--timeout``, default 60 s, 10 s with
    ``--quick``) without progress output; the child is killed, after
    ``faulthandler`` has printed where it was (the reported frame).
slow (progress)
    Still running at the limit, having written a progress bar (tqdm) to
    stderr: slow work that says so, not a hang.

Isolation: every case runs in its own child process, forked from the harness
(skflow and torch's lazy modules imported, no torch computation done in the
parent), in its own process group (killed as a whole), with stdout and stderr
redirected, so that no case's state (torch threads, seeds, warning filters, a
half-done import, files) reaches the next.

How to run
----------
::

    python benchmarks/bench_adversarial.py              # ~2,500 cases, ~20 min
    python benchmarks/bench_adversarial.py --quick      # ~150 cases, < 2 min
    python benchmarks/bench_adversarial.py --only SlicedWassersteinFlow
    python benchmarks/bench_adversarial.py --only metrics. --out /tmp/m.csv
    python benchmarks/bench_adversarial.py --list       # count cases, run none

``--only`` keeps the rows whose name contains the text (repeatable). The
script prints the matrix (markdown), the totals and every unclear, silent
wrong and hanging case (the bugs) with its exception type, first line of
message and raising frame, and writes one CSV row per case to ``--out``
(default ``/tmp/adversarial_cases.csv``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import faulthandler
import functools
import hashlib
import inspect
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import numbers
import os
import re
import resource
import shutil
import signal
import sys
import sysconfig
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils._param_validation import Interval as SklearnInterval

import skflow
import skflow.cli
from skflow import datasets, metrics
from skflow.impute import GenerativeImputer
from skflow.privacy import DifferentialPrivacy

OUTCOMES = ("clear error", "valid", "unclear", "silent wrong", "hang")
OUTCOMES += ("slow (progress)",)
BUGS = ("unclear", "silent wrong", "hang")
SKFLOW_DIR = os.path.dirname(os.path.abspath(skflow.__file__)) + os.sep
STDLIB_DIR = os.path.abspath(sysconfig.get_paths()["stdlib"]) + os.sep
NAN, INF = float("nan"), float("inf")

# ---------------------------------------------------------------------------
# Bad values, by the kind of parameter they are thrown at
# ---------------------------------------------------------------------------

INT_VALUES = [True, False, -1, 0, 0.5, 2.5, 1e300, -1e300, NAN, INF]
INT_VALUES += [10**12, 2**31, "a", None, [1], ()]
REAL_VALUES = [True, False, -1, 0, 2.5, 1e300, -1e300, 1e-300, NAN, INF]
REAL_VALUES += [10**12, 2**31, "a", None, [1], ()]
# For the keyword arguments of functions (metrics, datasets): the same kinds.
INT_COMPACT = [True, -1, 0, 0.5, 2.5, 1e300, NAN, INF, 10**12, 2**31, "a", None]
REAL_COMPACT = [True, -1, 0, 1e300, 1e-300, NAN, INF, 10**12, "a", None, [1]]
TUPLE_VALUES = [(10**9,), (2.5,), ("a",), (), (0,), (-1,)]
TUPLE_VALUES += [(True,), 8, None, "8", [8]]
BOOL_VALUES = ["a", 1, 0, None, 2.5, "True", np.bool_(True)]
SEED_VALUES = [-1, 2**33, True, "x", 2.5, NAN, np.random.RandomState(0)]
SEED_VALUES += [np.random.default_rng(0)]
VERBOSE_VALUES = [-1, 2.5, "a", None, 10**12]
DEVICE_VALUES = ["a", "", "cuda", "cuda:7", "mps", "meta", "cpu:0", None, 1]
N_VALUES = [0, -1, 2.5, True, 10**12, 2**31, "3", None, np.int64(3), 3.0]
MAPPING_VALUES = [{"z": 5}, {0: -1}, {0: 2.5}, {1: 10**12}, {0: NAN}, {}]
BOX_VALUES = [(5.0, -5.0), (NAN, 1.0), (1.0,), "a", (-INF, INF), (0.0, 0.0)]
BOX_VALUES += [(-1e300, 1e300), None]
COLUMN_VALUES = ["zz", 5, [5], [], [0, 0], -1, 2.5]


def _returns_nan(*args, **kwargs):
    """A user callable that returns NaN."""
    return NAN


def _wrong_arity():
    """A user callable that takes no arguments."""
    return 0.5


def _array_values() -> list:
    """Bad values for an array-like parameter (``init``)."""
    return [
        np.zeros((0, 3)),
        np.full((40, 3), NAN),
        np.zeros((40, 2)),
        np.zeros((40, 3, 1)),
        [[1.0, 2.0, 3.0]],
        np.full((40, 3), 1e300),
    ]


def _privacy_values() -> list:
    """Bad ``privacy`` budgets (besides numbers)."""
    return [
        DifferentialPrivacy(),
        DifferentialPrivacy(epsilon=-1.0, bounds=(-5.0, 5.0)),
        DifferentialPrivacy(bounds=(5.0, -5.0)),
        DifferentialPrivacy(bounds="a"),
        DifferentialPrivacy(bounds=(NAN, 1.0)),
        DifferentialPrivacy(bounds=(np.zeros(2), np.ones(2))),
    ]


def _sampler_values() -> list:
    """Bad values for a wrapper's ``sampler``."""
    from sklearn.mixture import GaussianMixture

    return [
        "a",
        None,
        1,
        skflow.GaussianMixtureSampler,
        skflow.TabularEncoder(),
        GaussianMixture(n_components=1),
    ]


def _string_values(options) -> list:
    """Bad values for a parameter taking one of the strings ``options``."""
    some = sorted(options)[0] if options else "x"
    values = ["a", "", None, 1, True, [some]]
    if some.upper() != some:
        values.append(some.upper())
    return values


def _kfold(n_splits: int):
    from sklearn.model_selection import KFold

    return KFold(n_splits=n_splits)


def _values_for_one(item) -> list:
    """Bad values for one entry of a scikit-learn constraint list."""
    if isinstance(item, SklearnInterval):
        integral = item.type is not None and issubclass(item.type, numbers.Integral)
        return INT_VALUES if integral else REAL_VALUES
    if isinstance(item, StrOptions):
        return _string_values(item.options)
    if isinstance(item, HasMethods):
        return _sampler_values()
    named = {
        "boolean": BOOL_VALUES,
        "random_state": SEED_VALUES,
        "verbose": VERBOSE_VALUES,
        "cv_object": INT_VALUES[:6] + ["a", _kfold(100)],
        "array-like": _array_values(),
    }
    if isinstance(item, str):
        return named.get(item, [])
    if item is str:
        return DEVICE_VALUES
    if item in (tuple, list):
        return TUPLE_VALUES
    if item is DifferentialPrivacy:
        return _privacy_values()
    if item is dict or getattr(item, "__name__", "") == "Mapping":
        return MAPPING_VALUES
    if item is callable:
        return [_returns_nan, _wrong_arity]
    return []


def values_for(constraints) -> list:
    """Bad values for a parameter, from its ``_parameter_constraints`` entry.

    Parameters
    ----------
    constraints : list or str
        The entry (``"no_validation"`` for a parameter checked by hand).

    Returns
    -------
    values : list
        The union of the value sets of its constraint kinds, one value per
        label.
    """
    if not isinstance(constraints, list):
        return INT_VALUES[:8] + ["a", None, [0, 0], ()]
    values = []
    for item in constraints:
        values += _values_for_one(item.constraint if isinstance(item, Hidden) else item)
    return _unique(values)


def _unique(values: list) -> list:
    """``values`` without repeats (by label), in order."""
    seen = {}
    for value in values:
        seen.setdefault(_label(value), value)
    return list(seen.values())


def _label(value) -> str:
    """A short, readable label of a bad value."""
    if isinstance(value, type):
        return f"class {value.__name__}"
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return f"<function {value.__name__}>"
    if isinstance(value, np.ndarray):
        return f"ndarray{value.shape} {value.dtype}"
    if isinstance(value, np.random.RandomState):
        return "RandomState(0)"
    if isinstance(value, np.random.Generator):
        return "default_rng(0)"
    if isinstance(value, np.generic):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 2**20:
        for base in (2, 10):
            exponent = round(math.log(value, base))
            if value == base**exponent:
                return f"{base}**{exponent}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def numeric(n_rows: int = 50, n_cols: int = 3, seed: int = 0) -> np.ndarray:
    """Standard normal rows: the default numeric input."""
    return np.random.default_rng(seed).normal(size=(n_rows, n_cols))


def mixed_frame(n_rows: int = 60, seed: int = 0) -> pd.DataFrame:
    """The default table: a float, an int, a text and a bool column."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "num": rng.normal(size=n_rows),
            "count": rng.integers(0, 9, n_rows),
            "cat": rng.choice(["a", "b", "c"], n_rows),
            "flag": rng.random(n_rows) < 0.5,
        }
    )


def labels(n_rows: int, share: float = 0.5) -> np.ndarray:
    """Two classes, the first ``share`` of the rows labelled 1."""
    return (np.arange(n_rows) < round(n_rows * share)).astype(int)


def _n_rows(X) -> int | None:
    try:
        return len(X) if not scipy.sparse.issparse(X) else X.shape[0]
    except TypeError:
        return None


def _n_columns(X) -> int | None:
    """The input's column count; None when it has no 2-D shape."""
    if isinstance(X, pd.Series):
        return 1
    try:
        shape = X.shape if hasattr(X, "shape") else np.shape(X)
    except (ValueError, TypeError):
        return None
    return shape[1] if len(shape) == 2 else None


@dataclass
class BadInput:
    """A bad input ``X``: ``make(seed)`` builds it; ``nan_columns`` are the
    positions of its columns that hold missing values."""

    name: str
    make: Callable[[int], object]
    nan_columns: tuple = ()


def _with_cell(value, column: int = 1, rows=(3,)):
    def make(seed=0):
        X = numeric(seed=seed)
        X[list(rows), column] = value
        return X

    return make


def _frame_with(column, seed=0) -> pd.DataFrame:
    """Two normal columns and ``column`` (a list or array of 50) as ``c``."""
    X = numeric(seed=seed)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": column})


def _narrow_float_frame(dtype, seed=0) -> pd.DataFrame:
    """Columns of ``dtype`` whose values lie near the dtype's largest value."""
    rng = np.random.default_rng(seed)
    top = float(np.finfo(dtype).max)
    return pd.DataFrame(
        {
            "a": (top * rng.uniform(0.9, 1.0, 50)).astype(dtype),
            "b": (-top * rng.uniform(0.9, 1.0, 50)).astype(dtype),
            "c": rng.normal(size=50).astype(dtype),
        }
    )


def _object_mixed(seed=0) -> np.ndarray:
    X = numeric(seed=seed).astype(object)
    X[5, 2] = "x"
    return X


def _nullable_ints(seed=0) -> pd.DataFrame:
    values = pd.array(list(range(49)) + [None], dtype="Int64")
    return _frame_with(values, seed)


def _huge_python_ints(seed=0) -> np.ndarray:
    return np.array([[2**80 + i, i, -i] for i in range(50)], dtype=object)


def _dataframe_inputs() -> list[BadInput]:
    """Bad DataFrame inputs."""
    days = pd.date_range("2020-01-01", periods=50, freq="D")
    return [
        BadInput(
            "float32 near max (DataFrame)",
            lambda s=0: _narrow_float_frame(np.float32, s),
        ),
        BadInput(
            "float16 near max (DataFrame)",
            lambda s=0: _narrow_float_frame(np.float16, s),
        ),
        BadInput("datetime column", lambda s=0: _frame_with(days, s)),
        BadInput("timedelta column", lambda s=0: _frame_with(days - days[0], s)),
        BadInput(
            "duplicated column names",
            lambda s=0: pd.DataFrame(numeric(seed=s), columns=["a", "a", "b"]),
        ),
        BadInput(
            "mixed-type column",
            lambda s=0: _frame_with([1, "x", 2.5, None, True] * 10, s),
            (2,),
        ),
        BadInput("text column", lambda s=0: _frame_with(list("abcde") * 10, s)),
        BadInput(
            "categorical column",
            lambda s=0: _frame_with(pd.Categorical(list("ab") * 25), s),
        ),
        BadInput("nullable Int64 with NA", _nullable_ints, (2,)),
        BadInput(
            "bool column with None",
            lambda s=0: _frame_with([True, False, None] * 16 + [True, False], s),
            (2,),
        ),
        BadInput(
            "unique text ids", lambda s=0: _frame_with([f"id{i}" for i in range(50)], s)
        ),
        BadInput(
            "non-string column names",
            lambda s=0: pd.DataFrame(numeric(seed=s), columns=[0, "b", 2.5]),
        ),
        BadInput(
            "numeric DataFrame",
            lambda s=0: pd.DataFrame(numeric(seed=s), columns=list("abc")),
        ),
    ]


def _array_inputs() -> list[BadInput]:
    """Bad array-like inputs."""
    rng = np.random.default_rng
    return [
        BadInput("empty (0 x 3)", lambda s=0: np.empty((0, 3))),
        BadInput("one row", lambda s=0: numeric(1, seed=s)),
        BadInput("two rows", lambda s=0: numeric(2, seed=s)),
        BadInput("1-D", lambda s=0: numeric(seed=s)[:, 0]),
        BadInput("3-D", lambda s=0: numeric(seed=s).reshape(50, 3, 1)),
        BadInput("NaN cell", _with_cell(NAN), (1,)),
        BadInput("NaN column", _with_cell(NAN, rows=range(50)), (1,)),
        BadInput("all NaN", lambda s=0: np.full((50, 3), NAN), (0, 1, 2)),
        BadInput("inf cell", _with_cell(INF)),
        BadInput("-inf cell", _with_cell(-INF)),
        BadInput("text array", lambda s=0: rng(s).choice(["a", "b", "c"], (50, 3))),
        BadInput("numeric strings", lambda s=0: numeric(seed=s).astype(str)),
        BadInput("object array, one text cell", _object_mixed),
        BadInput("object array of floats", lambda s=0: numeric(seed=s).astype(object)),
        BadInput("bools", lambda s=0: rng(s).random((50, 3)) < 0.5),
        BadInput("complex", lambda s=0: numeric(seed=s) + 1j),
        BadInput(
            "int64 near 2**62", lambda s=0: 2**62 + rng(s).integers(0, 10**6, (50, 3))
        ),
        BadInput("python ints 2**80 (object)", _huge_python_ints),
        BadInput("scale 1e300", lambda s=0: numeric(seed=s) * 1e300),
        BadInput("scale 1e-300", lambda s=0: numeric(seed=s) * 1e-300),
        BadInput(
            "near float64 max", lambda s=0: 1.7e308 * rng(s).uniform(0.5, 1, (50, 3))
        ),
        BadInput(
            "subnormal 5e-324 steps", lambda s=0: numeric(seed=s).round() * 5e-324
        ),
        BadInput(
            "columns at 1e-8, 1, 1e8", lambda s=0: numeric(seed=s) * [1e-8, 1.0, 1e8]
        ),
        BadInput("float16 array", lambda s=0: numeric(seed=s).astype(np.float16)),
        BadInput("small ints", lambda s=0: rng(s).integers(0, 10, (50, 3))),
        BadInput("list of lists", lambda s=0: numeric(seed=s).tolist()),
        BadInput("ragged list", lambda s=0: [[1.0, 2.0, 3.0], [1.0, 2.0]] * 25),
        BadInput("sparse CSR", lambda s=0: scipy.sparse.csr_matrix(numeric(seed=s))),
        BadInput("pandas Series", lambda s=0: pd.Series(numeric(seed=s)[:, 0])),
        BadInput("constant columns", lambda s=0: np.ones((50, 3))),
        BadInput("one constant column", _with_cell(7.0, column=2, rows=range(50))),
        BadInput(
            "two distinct rows repeated",
            lambda s=0: np.tile(numeric(2, seed=s), (25, 1)),
        ),
        BadInput("10,000 columns (12 rows)", lambda s=0: numeric(12, 10_000, seed=s)),
        BadInput("None", lambda s=0: None),
        BadInput("scalar", lambda s=0: 3.0),
        BadInput("a string", lambda s=0: "data.csv"),
    ]


INPUTS = _array_inputs() + _dataframe_inputs()
INPUT_HINTS = ("X", "input", "array", "column", "columns", "row", "rows")
INPUT_HINTS += ("sample", "samples", "feature", "features", "dtype", "NaN")
INPUT_HINTS += ("inf", "infinite", "missing", "shape", "2D", "1D", "sparse")


# ---------------------------------------------------------------------------
# Checking results
# ---------------------------------------------------------------------------


class Verdict(NamedTuple):
    """A case's outcome, with what explains it."""

    outcome: str
    detail: str = ""
    exc_type: str = ""
    message: str = ""
    frame: str = ""
    origin: str = ""


VALID = Verdict("valid")


def wrong(detail: str) -> Verdict:
    return Verdict("silent wrong", detail)


def _dtype_group(dtype) -> str:
    """``"bool"``, ``"int"``, ``"float"``, ``"complex"``, ``"datetime"``,
    ``"timedelta"`` or ``"other"``."""
    api = pd.api.types
    for group, test in (
        ("bool", api.is_bool_dtype),
        ("int", api.is_integer_dtype),
        ("float", api.is_float_dtype),
        ("complex", api.is_complex_dtype),
        ("datetime", api.is_datetime64_any_dtype),
        ("timedelta", api.is_timedelta64_dtype),
    ):
        with contextlib.suppress(TypeError, ValueError):
            if test(dtype):
                return group
    return "other"


def _columns(obj) -> list[tuple]:
    """``(label, values, dtype)`` for each column of a 2-D result or input."""
    if isinstance(obj, pd.DataFrame):
        return [
            (obj.columns[j], obj.iloc[:, j].to_numpy(), obj.dtypes.iloc[j])
            for j in range(obj.shape[1])
        ]
    if isinstance(obj, pd.Series):
        return [(obj.name, obj.to_numpy(), obj.dtype)]
    if scipy.sparse.issparse(obj):
        obj = obj.toarray()
    try:
        array = np.asarray(obj)
    except (ValueError, TypeError):
        return []
    if array.ndim != 2:
        return []
    return [(j, array[:, j], array.dtype) for j in range(array.shape[1])]


def _as_float(values, dtype) -> np.ndarray | None:
    """The values as floats (missing as NaN), or None if not real numbers."""
    if _dtype_group(dtype) not in ("int", "float"):
        return None
    try:
        return pd.Series(values).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError, OverflowError):
        return None


def _expected_dtype(dtype_in, pipeline: bool) -> str | None:
    """The dtype group a result column must have, None for no rule."""
    group = _dtype_group(dtype_in)
    if pipeline:
        return group
    if group == "float":
        return str(dtype_in)
    return "float64" if group in ("int", "bool") else None


def _container_problem(out, X, pipeline: bool) -> str:
    """What is wrong with the result's container or dtypes, "" if nothing."""
    if isinstance(X, pd.DataFrame):
        if not isinstance(out, pd.DataFrame):
            return f"returned {type(out).__name__} for a DataFrame input"
        if list(out.columns) != list(X.columns):
            return f"columns {list(out.columns)[:6]} differ from the input's"
        for (name, _, d_in), (_, _, d_out) in zip(_columns(X), _columns(out)):
            want = _expected_dtype(d_in, pipeline)
            got = _dtype_group(d_out) if pipeline else str(d_out)
            if want is not None and got != want:
                return f"column {name!r} came back {d_out}, expected {want}"
        return ""
    if isinstance(out, pd.DataFrame):
        return "" if isinstance(X, pd.Series) else "DataFrame for an array input"
    dtype = np.asarray(out).dtype
    ok = dtype.kind in "fiub" if pipeline else dtype == np.float64
    # Where dtypes are kept (a wrapper, a resampler), an object array's rows
    # come back as objects: their group keys keep their values.
    kept = isinstance(X, np.ndarray) and X.dtype.kind in "OU" and dtype.kind == "O"
    ok = ok or (pipeline and kept)
    return "" if ok else f"returned dtype {dtype}, expected float64"


def _finite_problem(out, nan_ok=()) -> str:
    """Infinite values anywhere, or missing values outside ``nan_ok``."""
    for position, (name, values, dtype) in enumerate(_columns(out)):
        missing = np.asarray(pd.isna(values), dtype=bool)
        if _dtype_group(dtype) in ("float", "complex"):
            infinite = ~np.isfinite(np.asarray(values)) & ~missing
            if infinite.any():
                return f"{int(infinite.sum())} infinite value(s) in column {name!r}"
        if missing.any() and position not in nan_ok:
            return f"{int(missing.sum())} NaN/missing value(s) in column {name!r}"
    return ""


def _range_problem(out, X, fixed=()) -> str:
    """A float column far outside its training range, or collapsed."""
    pairs = enumerate(zip(_columns(X), _columns(out)))
    for position, ((name, x_in, d_in), (_, x_out, d_out)) in pairs:
        a, b = _as_float(x_in, d_in), _as_float(x_out, d_out)
        if position in fixed or a is None or b is None:
            continue
        if _dtype_group(d_in) != "float":
            continue
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if a.size < 2 or b.size == 0:
            continue
        with np.errstate(all="ignore"):
            low, high = a.min(), a.max()
            spread = high - low
            if not np.isfinite(spread) or spread <= 0:
                continue
            far = (b < low - 100 * spread) | (b > high + 100 * spread)
        if far.any():
            return (
                f"column {name!r}: {int(far.sum())} value(s) beyond 100 data ranges "
                f"({b[far][0]:.3g} for data in [{low:.3g}, {high:.3g}])"
            )
        if b.size >= 3 and np.unique(a).size > 10 and np.ptp(b) == 0:
            return f"column {name!r} collapsed to the single value {b[0]:.3g}"
    return ""


def check_rows(
    out, n_rows, X, *, nan_ok=(), pipeline=False, width=None, fixed=()
) -> Verdict:
    """Whether ``out`` is a correct set of ``n_rows`` rows like ``X``.

    Parameters
    ----------
    out : ndarray or DataFrame
        The result.
    n_rows : int or None
        Rows expected; None checks no count.
    X : array-like or None
        The input it should resemble (columns, dtypes, range).
    nan_ok : tuple of int
        Column positions where missing values are allowed.
    pipeline : bool
        Whether dtypes must be kept as a ``TabularEncoder`` keeps them (instead
        of the plain samplers' float64 for int and bool columns).
    width : int or None
        Columns expected, when ``X`` does not say.
    fixed : tuple of int
        Column positions set by conditions: not checked for range or collapse.

    Returns
    -------
    verdict : Verdict
        ``valid`` or ``silent wrong`` with the first problem found.
    """
    width = _n_columns(X) if width is None else width
    if scipy.sparse.issparse(out) or (isinstance(out, list) and isinstance(X, list)):
        out = out.toarray() if scipy.sparse.issparse(out) else np.asarray(out)
    if not hasattr(out, "shape"):
        return wrong(f"returned {type(out).__name__}, not an array")
    shape = tuple(out.shape)
    if (
        len(shape) != 2
        or (n_rows is not None and shape[0] != n_rows)
        or (width is not None and shape[1] != width)
    ):
        return wrong(f"shape {shape}, expected ({n_rows}, {width})")
    problem = (
        _container_problem(out, X, pipeline)
        or _finite_problem(out, nan_ok)
        or _range_problem(out, X, fixed)
    )
    return wrong(problem) if problem else VALID


def check_metric(value) -> Verdict:
    """A finite float, or a report whose every value is one."""
    items = value.items() if isinstance(value, dict) else [("value", value)]
    for key, item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Real):
            return wrong(f"{key} is a {type(item).__name__}, not a float")
        # dcr is documented as inf when the held-out rows are themselves
        # copies of training rows and the synthetic rows are not.
        if not math.isfinite(float(item)) and not (key == "dcr" and item == INF):
            return wrong(f"{key} = {item}")
    if not isinstance(value, (dict, float, np.floating)):
        return wrong(f"returned {type(value).__name__}, not a float")
    return VALID


def _same(a, b) -> bool:
    """Whether two results are identical (NaN equal to NaN)."""
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b)
    try:
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    except TypeError:
        return np.array_equal(np.asarray(a), np.asarray(b))


# ---------------------------------------------------------------------------
# Estimators: small settings, and how each is exercised
# ---------------------------------------------------------------------------

SMALL_NET = {"hidden_layer_sizes": (8,), "batch_size": 32, "random_state": 0}
SMALL = {
    "GaussianMixtureSampler": {"max_iter": 5, "max_components": 2, "random_state": 0},
    "LipschitzParticleSampler": {
        "max_iter": 3,
        "n_particles": 40,
        "n_critic_steps": 1,
        **SMALL_NET,
    },
    "SlicedWassersteinFlow": {
        "max_iter": 3,
        "n_inner_steps": 2,
        "n_projections": 10,
        "n_layers": 2,
        **SMALL_NET,
    },
    "ProximalMFGFlow": {"max_iter": 3, "n_steps": 2, "n_critic_steps": 1, **SMALL_NET},
    "EntropicOTGenerator": {"max_iter": 3, "n_dual_steps": 2, **SMALL_NET},
    "AutoencoderTransformer": {**SMALL_NET, "max_iter": 3, "batch_size": 16},
}


def _small(cls):
    """``make(**params)``: ``cls`` with the small settings, then ``params``."""

    def make(**params):
        return cls(**{**SMALL[cls.__name__], **params})

    return make


def _gms(**params):
    return _small(skflow.GaussianMixtureSampler)(**params)


def _auto(**params):
    candidates = [
        _gms(),
        _small(skflow.SlicedWassersteinFlow)(random_state=None),
    ]
    base = {"candidates": candidates, "cv": 2, "time_budget": 3.0}
    return skflow.AutoSampler(**{**base, "random_state": 0, **params})


def _wrapper(cls, **base):
    def make(**params):
        return cls(**{"sampler": _gms(), **base, "random_state": 0, **params})

    return make


def _pipeline(**params):
    steps = [("tabularencoder", skflow.TabularEncoder()), ("sampler", _gms())]
    return skflow.GenerativePipeline(**{"steps": steps, **params})


def _private(**params):
    budget = DifferentialPrivacy(**{"bounds": (-5.0, 5.0), **params})
    return _small(skflow.LipschitzParticleSampler)(privacy=budget)


def _array_data():
    return numeric(), None


def _frame_data():
    return mixed_frame(), None


def _grouped_data():
    return np.column_stack([labels(50), numeric()]), None


def _holes_data():
    X = numeric()
    X[np.random.default_rng(1).random(X.shape) < 0.1] = NAN
    return X, None


@dataclass
class Spec:
    """An estimator under test: ``make(**params)`` builds a fresh one with
    small settings; ``role`` says how it is exercised; ``data()`` gives its
    default ``(X, y)``."""

    name: str
    cls: type
    make: Callable
    role: str
    data: Callable
    pipeline: bool = False


def _balanced_data():
    return numeric(), labels(50)


def _imbalanced_data():
    return numeric(), labels(50, 0.3)


def _specs() -> list[Spec]:
    """The estimators under test. ``pipeline`` marks those whose results keep
    a DataFrame's dtypes (a TabularEncoder inside, or the input returned)."""
    samplers = [
        skflow.GaussianMixtureSampler,
        skflow.LipschitzParticleSampler,
        skflow.SlicedWassersteinFlow,
        skflow.ProximalMFGFlow,
        skflow.EntropicOTGenerator,
    ]
    specs = [Spec(c.__name__, c, _small(c), "sampler", _array_data) for c in samplers]
    sk = skflow
    table = [
        (sk.AutoSampler, _auto, "sampler", _array_data, True),
        (
            sk.ClassConditionalSampler,
            _wrapper(sk.ClassConditionalSampler),
            "labelled",
            _balanced_data,
            False,
        ),
        (
            sk.GroupedSampler,
            _wrapper(sk.GroupedSampler, by=0, min_group_size=5),
            "sampler",
            _grouped_data,
            True,
        ),
        (
            sk.SyntheticOverSampler,
            _wrapper(sk.SyntheticOverSampler),
            "resampler",
            _imbalanced_data,
            True,
        ),
        (sk.GenerativePipeline, _pipeline, "sampler", _frame_data, True),
        (sk.TabularEncoder, sk.TabularEncoder, "transformer", _frame_data, True),
        (
            sk.AutoencoderTransformer,
            _small(sk.AutoencoderTransformer),
            "transformer",
            _array_data,
            True,
        ),
        (
            GenerativeImputer,
            _wrapper(GenerativeImputer, max_iter=1),
            "imputer",
            _holes_data,
            True,
        ),
    ]
    specs += [Spec(c.__name__, c, *rest) for c, *rest in table]
    dp = DifferentialPrivacy
    return specs + [Spec("DifferentialPrivacy", dp, _private, "sampler", _array_data)]


def _allows_nan(est) -> bool:
    """The ``allow_nan`` tag of ``est``, or of what it hands its input to (a
    pipeline's first step, a wrapper's ``sampler``), as
    ``skflow.utils.estimator_checks`` reads it."""
    try:
        if est.__sklearn_tags__().input_tags.allow_nan:
            return True
        steps = getattr(est, "steps", None)
        if steps:
            first = steps[0][1]
            return first not in (None, "passthrough") and _allows_nan(first)
        inner = est.get_params(deep=False).get("sampler")
        return hasattr(inner, "get_params") and _allows_nan(inner)
    except (AttributeError, TypeError, IndexError, ValueError):
        return False


def _fit(spec: Spec, est, X, y):
    if spec.role in ("labelled", "resampler"):
        return est.fit(X, y)
    return est.fit(X)


def exercise(spec: Spec, est, X, y=None, nan_columns=()) -> Verdict:
    """Fit ``est`` on ``X`` (and ``y``) as its role asks and check the result."""
    if spec.role == "transformer":
        return _exercise_transformer(est, X, nan_columns)
    if spec.role == "imputer":
        return check_rows(est.fit_transform(X), _n_rows(X), X, pipeline=True)
    if spec.role == "resampler":
        X_new, y_new = est.fit_resample(X, y)
        if len(y_new) < (_n_rows(X) or 0):
            return wrong(f"fit_resample returned {len(y_new)} rows, fewer than given")
        # imbalanced-learn's convention: the input's container and dtype.
        return check_rows(X_new, len(y_new), X, nan_ok=nan_columns, pipeline=True)
    _fit(spec, est, X, y)
    width = _n_columns(X)
    if width is not None and getattr(est, "n_features_in_", width) != width:
        return wrong(f"n_features_in_ = {est.n_features_in_} for {width} columns")
    out = est.sample(5)
    if isinstance(out, tuple):
        out = out[0]
    nan_ok = nan_columns if _allows_nan(est) else ()
    return check_rows(out, 5, X, nan_ok=nan_ok, pipeline=spec.pipeline)


def _exercise_transformer(est, X, nan_columns) -> Verdict:
    """``fit_transform`` then ``inverse_transform``. Only a TabularEncoder
    decodes to the input's container: other inverses give arrays, as in
    scikit-learn."""
    codes = est.fit_transform(X)
    n_rows = _n_rows(X)
    width = getattr(est, "n_components", None)
    verdict = check_rows(codes, n_rows, None, width=width, pipeline=True)
    if verdict.outcome != "valid":
        return verdict._replace(detail="transform: " + verdict.detail)
    back = est.inverse_transform(codes)
    like = X if isinstance(est, skflow.TabularEncoder) else _as_array(X)
    verdict = check_rows(back, n_rows, like, nan_ok=nan_columns, pipeline=True)
    if verdict.outcome != "valid":
        return verdict._replace(detail="inverse_transform: " + verdict.detail)
    return verdict


def _as_array(X):
    """A DataFrame's values (other inputs as they are), to compare arrays with."""
    return X.to_numpy() if isinstance(X, pd.DataFrame) else X


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


@dataclass
class Case:
    """One adversarial call: ``run()`` returns a Verdict or raises."""

    target: str
    kind: str
    name: str
    value: str
    run: Callable[[], Verdict]
    hints: tuple = ()
    cleanup: str = ""
    meaningless: bool = False


def _run_param(spec: Spec, name: str, value) -> Verdict:
    X, y = spec.data()
    return exercise(spec, spec.make(**{name: value}), X, y)


# Values added to (or, for lists of steps and candidates, replacing) the
# generic ones, where a parameter takes structured values.
def _param_overrides() -> dict:
    te, gms = skflow.TabularEncoder, _gms
    return {
        ("AutoSampler", "candidates"): ["a", "", None, 1, [], [1], ["x"]]
        + [[("n", "x")], [(gms(), {"max_iter": [-1]})], [(gms(), "grid")]]
        + [[("a", gms()), ("a", gms())], [te()]],
        ("GenerativePipeline", "steps"): ["a", None, [], [gms()], [("t", te())]]
        + [[("s", gms()), ("t", te())], [("a", 1)], [("x", te()), ("x", gms())]],
        ("GenerativePipeline", "transform_input"): ["a", 1, ["zz"], [1], []],
        ("GenerativePipeline", "memory"): [1, "/proc/forbidden/cache", te()],
        ("TabularEncoder", "relations"): ["zz", [1], [("num", "count")], [[]]],
        ("TabularEncoder", "domains"): [{"zz": [0, 1]}, {"num": [5, 1]}]
        + [{"num": "a"}, {"num": []}, {"cat": ["a"]}, {"num": [NAN, 1]}]
        + [{"num": {"range": [0, 1], "missing": "yes"}}, {}, {"flag": [2, 3]}],
        ("GroupedSampler", "by"): ["zz", 99, -99, [0, 0], [], None, 2.5]
        + [[0, 1, 2, 3], NAN, True, (0,)],
    }


MEANINGLESS = {"nan", "inf", "-inf", "1e+300", "-1e+300", "'a'", "[1]", "()"}


def _meaningless(value, flag: bool = False) -> bool:
    """Whether ``value`` is never a sensible setting (of a flag, if ``flag``)."""
    if flag and not isinstance(value, (bool, np.bool_)):
        return True
    return _label(value) in MEANINGLESS


def _value_hints(value) -> tuple:
    """A text value long enough to be recognised when a message quotes it."""
    return (value,) if isinstance(value, str) and len(value) >= 3 else ()


def param_cases(spec: Spec) -> list[Case]:
    """Every constructor parameter of ``spec`` x its bad values."""
    overrides = _param_overrides()
    replaced = {("AutoSampler", "candidates"), ("GenerativePipeline", "steps")}
    cases = []
    for name, constraints in spec.cls._parameter_constraints.items():
        key = (spec.name, name)
        values = [] if key in replaced else values_for(constraints)
        if name == "hidden_layer_sizes":
            values = TUPLE_VALUES
        flag = constraints == ["boolean"]
        for value in _unique(values + overrides.get(key, [])):
            run = functools.partial(_run_param, spec, name, value)
            hints = (name,) + _value_hints(value)
            case = Case(spec.name, "param", name, _label(value), run, hints)
            case.meaningless = _meaningless(value, flag)
            cases.append(case)
    return cases


def _run_input(spec: Spec, bad: BadInput, y_kind: str) -> Verdict:
    X = bad.make(0)
    n_rows = _n_rows(X) or 50
    y = labels(n_rows, 0.3 if spec.role == "resampler" else 0.5)
    return exercise(spec, spec.make(), X, y, bad.nan_columns)


def input_cases(spec: Spec) -> list[Case]:
    """``spec`` fitted on every bad input (and bad labels, if it takes them)."""
    if spec.name == "DifferentialPrivacy":  # its inputs are the sampler's
        return []
    cases = []
    for bad in INPUTS:
        run = functools.partial(_run_input, spec, bad, "")
        cases.append(Case(spec.name, "input", "X", bad.name, run, INPUT_HINTS))
    if spec.role in ("labelled", "resampler"):
        for label, y in _bad_labels().items():
            run = functools.partial(_run_labels, spec, y)
            cases.append(
                Case(spec.name, "input", "y", label, run, ("y",) + INPUT_HINTS)
            )
    return cases


def _bad_labels() -> dict:
    y = labels(50).astype(float)
    return {
        "NaN label": np.where(np.arange(50) == 3, NAN, y),
        "inf label": np.where(np.arange(50) == 3, INF, y),
        "one class": np.zeros(50, dtype=int),
        "class of one row": (np.arange(50) == 0).astype(int),
        "49 labels for 50 rows": labels(49),
        "2-D labels (50 x 2)": np.column_stack([labels(50), labels(50)]),
        "text labels": np.where(labels(50) == 1, "yes", "no"),
        "continuous labels": numeric(50, 1).ravel(),
        "None": None,
        "bool labels": labels(50) == 1,
        "mixed object labels": np.array(["a", 1] * 25, dtype=object),
        "labels as a DataFrame": pd.DataFrame({"y": labels(50)}),
    }


def _run_labels(spec: Spec, y) -> Verdict:
    return exercise(spec, spec.make(), numeric(), y)


def _rows_for(n) -> int | None:
    """Rows ``sample(n)`` must return; None when ``n`` is no count."""
    if n is None:
        return 1
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        return None
    return int(n)


def _run_sample(spec: Spec, kwargs: dict, rows) -> Verdict:
    X, y = spec.data()
    est = _fit(spec, spec.make(), X, y)
    out = est.sample(**kwargs)
    if isinstance(out, tuple):
        out = out[0]
    return check_rows(out, rows, X, pipeline=spec.pipeline)


def _sample_extras(spec: Spec) -> list[tuple[str, dict, int | None]]:
    """Per-estimator ``sample`` arguments: ``(name, kwargs, rows expected)``."""
    extras = []
    if spec.name == "ProximalMFGFlow":
        extras += [("n_steps", {"n_samples": 5, "n_steps": v}, 5) for v in INT_VALUES]
        extras += [
            ("return_trajectories", {"n_samples": 5, "return_trajectories": v}, 5)
            for v in BOOL_VALUES
        ]
    if spec.name == "ClassConditionalSampler":
        ys = [["zz"], [], [[0, 1]], [NAN], "a", [0, 1], np.array([True, False])]
        extras += [("y", {"y": v}, len(v) if isinstance(v, list) else None) for v in ys]
        extras.append(("y", {"n_samples": 5, "y": [0, 1, 0]}, 5))
    if spec.name == "GroupedSampler":
        groups = [["zz"], [99], [[0, 1]], [], "a", [0.0, 1.0], np.array([[0], [1]])]
        extras += [("groups", {"groups": v}, 2) for v in groups + [[NAN]]]
    if spec.name in ("AutoSampler", "GenerativePipeline"):
        extras.append(("**sample_params", {"n_samples": 5, "foo": 1}, 5))
    return extras


def sample_cases(spec: Spec) -> list[Case]:
    """Bad ``sample`` arguments of a fitted ``spec``."""
    if spec.role not in ("sampler", "labelled") or spec.name == "DifferentialPrivacy":
        return []
    calls = [("n_samples", {"n_samples": n}, _rows_for(n)) for n in N_VALUES]
    calls += [
        ("random_state", {"n_samples": 5, "random_state": v}, 5) for v in SEED_VALUES
    ]
    cases = []
    for name, kwargs, rows in calls + _sample_extras(spec):
        value = kwargs.get(name, kwargs.get("foo"))
        label = "foo=1" if name == "**sample_params" else _label(value)
        run = functools.partial(_run_sample, spec, kwargs, rows)
        case = Case(spec.name, "sample", name, label, run, (name,))
        case.meaningless = _meaningless(value, name == "return_trajectories")
        cases.append(case)
    cases.append(_unfitted_case(spec))
    return cases


def _run_unfitted(spec: Spec) -> Verdict:
    est = spec.make()
    X, _ = spec.data()
    if spec.role == "resampler":
        return wrong("no unfitted call to make")
    out = est.sample(5) if hasattr(est, "sample") else est.transform(X)
    return wrong(f"an unfitted estimator returned {type(out).__name__}")


def _unfitted_case(spec: Spec) -> Case:
    call = "sample" if hasattr(spec.make(), "sample") else "transform"
    run = functools.partial(_run_unfitted, spec)
    return Case(spec.name, "unfitted", call, "before fit", run, ("fit", call))


def unfitted_cases(spec: Spec) -> list[Case]:
    """``transform`` before ``fit`` for transformers and the imputer."""
    if spec.role in ("transformer", "imputer"):
        return [_unfitted_case(spec)]
    return []


ARRAY_CONDITIONS = [
    {5: 0.0},
    {"a": 0.0},
    {0: NAN},
    {0: INF},
    {0: 1e300},
    {0: (2.0, 1.0)},
    {0: (None, None)},
    {0: (1.0, 2.0, 3.0)},
    {0: "a"},
    {0: [1.0, 2.0]},
    {},
    {0: 0.0, 1: 0.0, 2: 0.0},
    {0: 1e6},
    {0: True},
    {-1: 0.0},
    {0.5: 0.0},
    {0: 0.5},
    {0: (-1.0, 1.0)},
    np.full((5, 3), NAN),
    np.zeros((5, 4)),
    np.zeros(5),
    "a",
    3,
    [],
    pd.DataFrame({"zz": [1.0]}),
]
FRAME_CONDITIONS = [
    {"cat": "zz"},
    {"num": "a"},
    {"count": 2.5},
    {"flag": 3},
    {"zz": 1},
    {"num": (5.0, 1.0)},
    {"cat": ("a", "b")},
    {"num": NAN},
    {"flag": "yes"},
    {"count": 10**12},
    {"cat": None},
    {"cat": "a"},
    {"num": (-1.0, 1.0)},
    pd.DataFrame({"num": [0.0] * 5}),
    np.zeros((5, 4)),
]


def _meets(values: np.ndarray, want) -> bool:
    """Whether every value equals ``want`` or lies in the range ``want``."""
    if isinstance(want, tuple) and len(want) == 2:
        low = -INF if want[0] is None else want[0]
        high = INF if want[1] is None else want[1]
        return bool(np.all((values >= low) & (values <= high)))
    if isinstance(want, numbers.Real) and math.isfinite(want):
        return np.allclose(values.astype(float), float(want), rtol=1e-6, atol=1e-9)
    return bool(np.all(values == want))


def _fixed_columns(conditions, X) -> tuple:
    """Positions of the columns that ``conditions`` set."""
    if isinstance(conditions, pd.DataFrame):
        keys = list(conditions.columns)
    elif isinstance(conditions, dict):
        keys = list(conditions)
    else:
        return ()
    columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
    width = _n_columns(X) or 0
    positions = []
    for key in keys:
        if columns is not None and key in columns:
            positions.append(columns.index(key))
        elif isinstance(key, numbers.Integral) and -width <= key < width:
            positions.append(int(key) % width)
    return tuple(positions)


def _condition_problem(out, conditions: dict) -> str:
    """A condition of the dict that the rows do not meet, "" if all are."""
    for key, want in conditions.items():
        try:
            column = out[key] if isinstance(out, pd.DataFrame) else out[:, key]
            values = np.asarray(column)
        except (KeyError, IndexError, TypeError):
            continue
        try:
            ok = _meets(values, want)
        except (TypeError, ValueError):
            continue
        if not ok:
            return f"condition {key!r}: {want!r} not met (got {values[:3]})"
    return ""


def _run_conditions(spec: Spec, conditions) -> Verdict:
    X, y = spec.data()
    est = _fit(spec, spec.make(), X, y)
    out = est.sample(5, conditions=conditions)
    partial_rows = isinstance(conditions, (np.ndarray, pd.DataFrame))
    rows = len(conditions) if partial_rows and np.ndim(conditions) == 2 else 5
    fixed = _fixed_columns(conditions, X)
    verdict = check_rows(out, rows, X, pipeline=spec.pipeline, fixed=fixed)
    if verdict.outcome != "valid" or not isinstance(conditions, dict):
        return verdict
    problem = _condition_problem(out, conditions)
    return wrong(problem) if problem else VALID


def condition_cases(spec: Spec) -> list[Case]:
    """Bad ``sample(5, conditions=...)`` of a fitted sampler."""
    if spec.role != "sampler" or spec.name in ("GroupedSampler", "DifferentialPrivacy"):
        return []
    conditions = FRAME_CONDITIONS if spec.pipeline else ARRAY_CONDITIONS
    cases = []
    for value in conditions:
        keys = tuple(str(k) for k in value) if isinstance(value, dict) else ()
        run = functools.partial(_run_conditions, spec, value)
        hints = ("conditions", "condition", "column") + keys
        cases.append(
            Case(spec.name, "conditions", "conditions", _label(value), run, hints)
        )
    return cases


def _run_labelled_conditions(spec: Spec, kwargs: dict) -> Verdict:
    X, y = spec.data()
    out, _ = _fit(spec, spec.make(), X, y).sample(**kwargs)
    fixed = _fixed_columns(kwargs["conditions"], X)
    verdict = check_rows(out, len(kwargs.get("y", [0] * 5)), X, fixed=fixed)
    problem = _condition_problem(out, kwargs["conditions"])
    return wrong(problem) if verdict.outcome == "valid" and problem else verdict


def labelled_condition_cases(spec: Spec) -> list[Case]:
    """``ClassConditionalSampler.sample(y=..., conditions=...)``."""
    if spec.role != "labelled":
        return []
    y = [0, 1, 0, 1, 0]
    calls = [
        ("no y", {"n_samples": 5, "conditions": {0: 0.5}}),
        ("y", {"y": y, "conditions": {0: 0.5}}),
        ("y", {"y": y, "conditions": {0: 1e6}}),
        ("y", {"y": y, "conditions": {9: 0.5}}),
        ("y", {"y": y, "conditions": np.zeros((3, 3))}),
    ]
    cases = []
    for name, kwargs in calls:
        run = functools.partial(_run_labelled_conditions, spec, kwargs)
        label = _label(kwargs["conditions"])
        hints = ("conditions", "condition", "y")
        cases.append(Case(spec.name, "conditions", name, label, run, hints))
    return cases


def estimator_cases() -> list[Case]:
    cases = []
    for spec in _specs():
        cases += param_cases(spec) + input_cases(spec) + sample_cases(spec)
        cases += condition_cases(spec) + labelled_condition_cases(spec)
        cases += unfitted_cases(spec)
    return cases


# ---------------------------------------------------------------------------
# Functions: metrics and datasets
# ---------------------------------------------------------------------------


def _classifiers() -> list:
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LinearRegression

    return ["a", 1, LinearRegression(), KMeans(n_clusters=2, n_init=1)]


def _keyword_values(name: str, default) -> list:
    """Bad values for a function's keyword argument, by name or default."""
    by_name = {
        "random_state": SEED_VALUES,
        "metric": _string_values({"euclidean"}) + ["cosine", "precomputed"],
        "classifier": _classifiers(),
        "sensitive": COLUMN_VALUES,
        "quasi_identifiers": COLUMN_VALUES,
        "privacy": ["a", 1, True, {"foo": 1}, {"sensitive": [5]}, {}],
        "center_box": BOX_VALUES,
    }
    if name in by_name:
        return by_name[name]
    if isinstance(default, bool):
        return BOOL_VALUES
    if isinstance(default, int) or (
        default is None and name.startswith(("max_", "n_"))
    ):
        return INT_COMPACT
    if isinstance(default, float) or default is None:
        return REAL_COMPACT
    if isinstance(default, str):
        return _string_values({default})
    return INT_COMPACT[:4] + ["a", None]


def _positional(func) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind in kinds and p.default is p.empty
    ]


def _keywords(func) -> dict:
    return {
        p.name: p.default
        for p in inspect.signature(func).parameters.values()
        if p.default is not p.empty
    }


def _run_metric(func, arrays: list, kwargs: dict) -> Verdict:
    args = [make(seed) for seed, make in enumerate(arrays)]
    return check_metric(func(*args, **kwargs))


ONE_OFF = {
    "empty (0 x 3)": lambda s=0: np.empty((0, 3)),
    "one row": lambda s=0: numeric(1, seed=s),
    "4 columns": lambda s=0: numeric(40, 4, seed=s),
    "NaN cell": _with_cell(NAN),
    "1-D": lambda s=0: numeric(seed=s)[:, 0],
}


def metric_cases(func) -> list[Case]:
    """A metric with the same bad input in every array, with one array off,
    and with each keyword argument bad."""
    target = f"metrics.{func.__name__}"
    names = _positional(func)
    default = functools.partial(numeric, 40)
    cases = []
    for bad in INPUTS:
        run = functools.partial(_run_metric, func, [bad.make] * len(names), {})
        hints = INPUT_HINTS + tuple(names)
        cases.append(Case(target, "input", "all arrays", bad.name, run, hints))
    for position, name in enumerate(names[1:], start=1):
        for label, make in ONE_OFF.items():
            arrays = [lambda s=0: default(seed=s)] * len(names)
            arrays[position] = make
            run = functools.partial(_run_metric, func, arrays, {})
            cases.append(Case(target, "input", name, label, run, INPUT_HINTS + (name,)))
    for name, value_default in _keywords(func).items():
        for value in _keyword_values(name, value_default):
            arrays = [lambda s=0: default(seed=s)] * len(names)
            run = functools.partial(_run_metric, func, arrays, {name: value})
            case = Case(target, "param", name, _label(value), run, (name,))
            case.meaningless = _meaningless(value, isinstance(value_default, bool))
            cases.append(case)
    return cases


def _run_dataset(func, kwargs: dict) -> Verdict:
    out = func(**kwargs)
    X = out[0] if isinstance(out, tuple) else out
    defaults = _keywords(func)
    rows = _rows_for(kwargs.get("n_samples", defaults.get("n_samples")))
    width = _rows_for(kwargs.get("n_features", defaults.get("n_features")))
    verdict = check_rows(X, rows, None, width=width, pipeline=True)
    if verdict.outcome == "valid" and isinstance(out, tuple) and len(out[1]) != len(X):
        return wrong(f"{len(out[1])} labels for {len(X)} rows")
    return verdict


def dataset_cases(func) -> list[Case]:
    """A dataset generator with each keyword argument bad (50 rows otherwise)."""
    target = f"datasets.{func.__name__}"
    cases = []
    for name, default in _keywords(func).items():
        for value in _keyword_values(name, default):
            kwargs = {"n_samples": 50, name: value}
            run = functools.partial(_run_dataset, func, kwargs)
            case = Case(target, "param", name, _label(value), run, (name,))
            case.meaningless = _meaningless(value)
            cases.append(case)
    return cases


def function_cases() -> list[Case]:
    cases = []
    for name in metrics.__all__:
        cases += metric_cases(getattr(metrics, name))
    for name in datasets.__all__:
        cases += dataset_cases(getattr(datasets, name))
    return cases


# ---------------------------------------------------------------------------
# skflow.save / skflow.load
# ---------------------------------------------------------------------------

PERSIST_HINTS = ("path", "key", "file", "estimator", "archive", "folder")
PERSIST_HINTS += ("directory", "signature", "checksum")


def _fitted_gms():
    return _gms().fit(numeric())


def _holding_function():
    est = _fitted_gms()
    est.callback_ = len
    return est


def _same_state(a, b) -> bool:
    """Whether two objects hold the same attributes (arrays compared by value)."""
    if not hasattr(a, "__dict__"):
        return _same(a, b) if isinstance(a, np.ndarray) else bool(a == b)
    public_a = {k: v for k, v in vars(a).items() if not k.startswith("_")}
    public_b = {k: v for k, v in vars(b).items() if not k.startswith("_")}
    if public_a.keys() != public_b.keys():
        return False
    for key, value in public_a.items():
        other = public_b[key]
        if isinstance(value, np.ndarray) and not _same(value, other):
            return False
    return repr(a) == repr(b)


def _compare_loaded(est, loaded) -> Verdict:
    if type(loaded) is not type(est):
        return wrong(f"loaded a {type(loaded).__name__} for a {type(est).__name__}")
    drawn = hasattr(est, "n_features_in_") and hasattr(est, "sample")
    if drawn and "random_state" in inspect.signature(est.sample).parameters:
        a, b = est.sample(5, random_state=0), loaded.sample(5, random_state=0)
        return VALID if _same(a, b) else wrong("the loaded model draws other rows")
    if not _same_state(est, loaded):
        return wrong("the loaded object differs from the saved one")
    return VALID


def _run_save(folder: str, make_obj, make_path, key=None) -> Verdict:
    os.makedirs(folder, exist_ok=True)
    est, path = make_obj(), make_path(folder)
    skflow.save(est, path, key=key)
    return _compare_loaded(est, skflow.load(path, key=key))


def _existing(folder: str) -> str:
    path = os.path.join(folder, "old.skflow")
    with open(path, "w") as handle:
        handle.write("old")
    return path


def save_cases(workdir: str) -> list[Case]:
    """``skflow.save`` with bad objects, paths and keys."""
    from pathlib import Path

    from sklearn.mixture import GaussianMixture

    default = os.path.join
    objects = {
        "fitted GaussianMixtureSampler": _fitted_gms,
        "unfitted GaussianMixtureSampler": _gms,
        "fitted sklearn GaussianMixture": lambda: GaussianMixture(2).fit(numeric()),
        "estimator holding a function": _holding_function,
        "AutoSampler(scoring=<function>)": lambda: _auto(scoring=_returns_nan),
        "dict": lambda: {"a": 1},
        "function": lambda: len,
        "ndarray": lambda: np.zeros(3),
        "None": lambda: None,
        "string": lambda: "a",
    }
    paths = {
        "missing folder": lambda d: default(d, "no", "such", "m.skflow"),
        "a folder": lambda d: d,
        "3": lambda d: 3,
        "''": lambda d: "",
        "bytes path": lambda d: os.fsencode(default(d, "m.skflow")),
        "pathlib.Path": lambda d: Path(d) / "m.skflow",
        "/proc/m.skflow": lambda d: "/proc/m.skflow",
        "existing file": _existing,
        "/dev/null": lambda d: "/dev/null",
    }
    keys = [123, "", ["k"], NAN, b"", "secret", bytearray(b"k")]
    in_folder = functools.partial(lambda d: default(d, "m.skflow"))
    calls = [("estimator", label, (make, in_folder)) for label, make in objects.items()]
    calls += [("path", label, (_fitted_gms, make)) for label, make in paths.items()]
    calls += [("key", _label(k), (_fitted_gms, in_folder, k)) for k in keys]
    cases = []
    for i, (name, label, args) in enumerate(calls):
        folder = os.path.join(workdir, f"save_{i}")
        run = functools.partial(_run_save, folder, *args)
        cases.append(Case("save", "argument", name, label, run, PERSIST_HINTS, folder))
    return cases


def _saved(folder: str, key=None) -> str:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.skflow")
    skflow.save(_fitted_gms(), path, key=key)
    return path


def _rewrite(path: str, change: Callable[[dict], dict]) -> str:
    """Rewrite the archive at ``path`` with ``change`` applied to its members."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents = change(contents)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def _zip_with(folder: str, name: str, contents: dict) -> str:
    """A zip archive of ``contents`` (member name -> bytes) in ``folder``."""
    path = os.path.join(folder, name)
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in contents.items():
            archive.writestr(member, data)
    return path


def _swap_class(contents: dict) -> dict:
    """Name ``os:system`` as the estimator class, checksums recomputed."""
    text = contents["manifest.json"].decode()
    text = re.sub(r'("__estimator__":\s*")[^"]+', r"\1os:system", text, count=1)
    contents["manifest.json"] = text.encode()
    sums = json.loads(contents["checksums.json"])
    sums["manifest.json"] = hashlib.sha256(contents["manifest.json"]).hexdigest()
    contents["checksums.json"] = json.dumps(sums).encode()
    return contents


def _edit_manifest(contents: dict) -> dict:
    contents["manifest.json"] = contents["manifest.json"].replace(b"5", b"6", 1)
    return contents


def _write_bytes(folder: str, name: str, data: bytes) -> str:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _truncated(folder: str) -> str:
    path = _saved(folder)
    with open(path, "rb") as handle:
        data = handle.read()
    return _write_bytes(folder, "half.skflow", data[: len(data) // 2])


def _pickled(folder: str) -> str:
    import joblib

    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "m.joblib")
    joblib.dump(_fitted_gms(), path)
    return path


def _damaged_files() -> dict:
    """``label -> (make(folder) -> (path, key), should_load)``."""
    rng = np.random.default_rng(0)
    extra = functools.partial(_rewrite, change=lambda c: {**c, "evil.py": b"x"})
    drop = functools.partial(
        _rewrite, change=lambda c: {k: v for k, v in c.items() if k != "tensors.pt"}
    )
    join = os.path.join
    return {
        "missing file": (lambda d: (join(d, "none.skflow"), None), False),
        "a folder": (lambda d: (d, None), False),
        "empty file": (lambda d: (_write_bytes(d, "e.skflow", b""), None), False),
        "random bytes": (
            lambda d: (_write_bytes(d, "r.skflow", rng.bytes(512)), None),
            False,
        ),
        "truncated to half": (lambda d: (_truncated(d), None), False),
        "extra member": (lambda d: (extra(_saved(d)), None), False),
        "tensors.pt removed": (lambda d: (drop(_saved(d)), None), False),
        "class swapped to os:system": (
            lambda d: (_rewrite(_saved(d), _swap_class), None),
            False,
        ),
        "manifest edited": (
            lambda d: (_rewrite(_saved(d), _edit_manifest), None),
            False,
        ),
        "signed with key a, loaded with b": (
            lambda d: (_saved(d, key="a"), "b"),
            False,
        ),
        "signed, loaded without key": (lambda d: (_saved(d, key="a"), None), True),
        "unsigned, loaded with a key": (lambda d: (_saved(d), "a"), False),
        "signed, key 123": (lambda d: (_saved(d, key="a"), 123), False),
        "a joblib pickle": (lambda d: (_pickled(d), None), False),
        "unrelated zip": (
            lambda d: (_zip_with(d, "z.zip", {"a.txt": b"a"}), None),
            False,
        ),
        "path 3": (lambda d: (3, None), False),
        "path None": (lambda d: (None, None), False),
    }


def _run_load(folder: str, make, should_load: bool) -> Verdict:
    os.makedirs(folder, exist_ok=True)
    path, key = make(folder)
    loaded = skflow.load(path, key=key)
    if not should_load:
        return wrong(f"loaded a {type(loaded).__name__} from a bad file")
    return _compare_loaded(_fitted_gms(), loaded)


def load_cases(workdir: str) -> list[Case]:
    """``skflow.load`` of missing, damaged, tampered and mis-keyed files."""
    cases = []
    for i, (label, (make, ok)) in enumerate(_damaged_files().items()):
        folder = os.path.join(workdir, f"load_{i}")
        run = functools.partial(_run_load, folder, make, ok)
        cases.append(Case("load", "file", "path", label, run, PERSIST_HINTS, folder))
    return cases


def _probe(spec: Spec, est, X, y):
    if spec.role == "resampler":
        return est.fit_resample(X, y)
    if spec.role in ("transformer", "imputer"):
        return est.transform(X)
    return est.sample(5, random_state=0)


def _run_round_trip(spec: Spec, folder: str) -> Verdict:
    X, y = spec.data()
    est = _fit(spec, spec.make(), X, y)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "m.skflow")
    skflow.save(est, path)
    loaded = skflow.load(path)
    if _same(_probe(spec, est, X, y), _probe(spec, loaded, X, y)):
        return VALID
    return wrong("the loaded model gives other results than the saved one")


def round_trip_cases(workdir: str) -> list[Case]:
    """Save and load every fitted estimator; the results must not change."""
    cases = []
    for i, spec in enumerate(_specs()):
        folder = os.path.join(workdir, f"trip_{i}")
        run = functools.partial(_run_round_trip, spec, folder)
        hints = PERSIST_HINTS
        cases.append(
            Case("save", "round trip", spec.name, "fitted", run, hints, folder)
        )
    return cases


# ---------------------------------------------------------------------------
# The command line: skflow fit-sample
# ---------------------------------------------------------------------------

GMS_PARAMS = ("max_iter=5", "max_components=2")
CLI_HINTS = ("file", "column", "columns", "row", "rows", "header", "CSV")
CLI_HINTS += ("encoding", "delimiter", "--sep", "--encoding", "input")


@dataclass
class CliFile:
    """An input table written for the command line: its data rows, header
    and the columns that hold missing values."""

    path: str
    rows: int | None = None
    columns: list | None = None
    nan_columns: tuple = ()


class _Tee(io.StringIO):
    """Keeps what is written, and passes it on (so progress bars still show)."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def write(self, text):
        self.stream.write(text)
        return super().write(text)

    def isatty(self):
        return False


def _good_frame() -> pd.DataFrame:
    frame = mixed_frame()
    frame["label"] = labels(60)
    return frame


def _variant(**columns) -> pd.DataFrame:
    frame = _good_frame()
    for name, values in columns.items():
        frame[name] = values
    return frame


def _table_files() -> dict:
    """``file name -> (DataFrame, to_csv options, NaN columns)``."""
    good = _good_frame()
    accented = good["cat"].map({"a": "é", "b": "ü", "c": "ø"})
    days = pd.date_range("2020-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    wide = pd.DataFrame(numeric(10, 10_000), columns=[f"c{i}" for i in range(10_000)])
    return {
        "good.csv": (good, {}, ()),
        "semicolon.csv": (good, {"sep": ";"}, ()),
        "tab.tsv": (good, {"sep": "\t"}, ()),
        "one_row.csv": (good.head(1), {}, ()),
        "latin1.csv": (_variant(cat=accented), {"encoding": "latin-1"}, ()),
        "bom.csv": (good, {"encoding": "utf-8-sig"}, ()),
        "nan_column.csv": (_variant(num=NAN), {}, ("num",)),
        "constant_column.csv": (_variant(num=1.0), {}, ()),
        "date_column.csv": (_variant(day=days), {}, ()),
        "int64_2**62.csv": (_variant(big=[2**62 + i for i in range(60)]), {}, ()),
        "int_2**80.csv": (_variant(big=[str(2**80 + i) for i in range(60)]), {}, ()),
        "inf_strings.csv": (_variant(num=["inf", "-inf"] + ["1.5"] * 58), {}, ()),
        "scale_1e300.csv": (_variant(num=good["num"] * 1e300), {}, ()),
        "single_column.csv": (good[["num"]], {}, ()),
        "10000_columns.csv": (wide, {}, ()),
        "quoted_newline.csv": (_variant(cat=["a\nb", "c"] * 30), {}, ()),
        "id_column.csv": (_variant(id=[f"user{i}" for i in range(60)]), {}, ()),
        "mixed_column.csv": (_variant(count=[1, "x", 2.5] * 20), {}, ()),
        "all_missing_text.csv": (_variant(cat=""), {}, ("cat",)),
    }


def _raw_files() -> dict:
    """``file name -> bytes`` of files that are not tables."""
    rows = "".join(f"{i},{i % 3},a\n" for i in range(40))
    return {
        "empty.csv": b"",
        "header_only.csv": b"num,count,cat,flag,label\n",
        "random_bytes.csv": np.random.default_rng(0).bytes(512),
        "ragged.csv": ("a,b,c\n1,2,3\n4,5\n6,7,8,9\n" + rows).encode(),
        "duplicated_header.csv": ("a,a,b\n" + rows).encode(),
        "empty_header_name.csv": (",b,c\n" + rows).encode(),
        "whitespace.csv": b"   \n\n  \n",
        "csv_named.parquet": _good_frame().to_csv(index=False).encode(),
        "existing.csv": b"x\n1\n",
    }


def write_cli_files(folder: str) -> dict[str, CliFile]:
    """Write the command line's input tables (and a domains file) to ``folder``."""
    os.makedirs(folder, exist_ok=True)
    files = {}
    for name, (frame, options, nan_columns) in _table_files().items():
        path = os.path.join(folder, name)
        frame.to_csv(path, index=False, **options)
        files[name] = CliFile(path, len(frame), list(frame.columns), nan_columns)
    for name, data in _raw_files().items():
        files[name] = CliFile(_write_bytes(folder, name, data))
    domains = {"num": [-5, 5], "count": [0, 9], "cat": ["a", "b", "c"]}
    domains.update({"flag": [False, True], "label": [0, 1]})
    for name, content in {
        "domains.json": json.dumps(domains),
        "bad.json": "{not json",
        "list.json": "[1, 2]",
        "partial.json": json.dumps({"num": [-5, 5]}),
    }.items():
        files[name] = CliFile(_write_bytes(folder, name, content.encode()))
    return files


def cli_argv(source: str, output: str, options=None, params=GMS_PARAMS) -> list:
    """``fit-sample`` arguments: GaussianMixtureSampler with small settings,
    no holdout, seed 0, with ``options`` (None removes a default, True adds
    a bare flag) and ``-p`` ``params``."""
    chosen = {"-o": output, "--method": "gmm", "--holdout": "0", "--seed": "0"}
    chosen.update(options or {})
    argv = ["fit-sample", source]
    for flag, value in chosen.items():
        if value is True:
            argv.append(flag)
        elif value is not None:
            argv += [flag, value]
    for param in params:
        argv += ["-p", param]
    return argv


def _usage_verdict(exc: SystemExit, text: str) -> Verdict:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    message = lines[-1] if lines else ""
    if exc.code == 0:
        return VALID
    names = "argument" in message or "--" in message
    outcome = (
        "clear error" if exc.code == 2 and "error:" in message and names else "unclear"
    )
    detail = "" if outcome == "clear error" else f"SystemExit({exc.code})"
    return Verdict(
        outcome, detail, f"SystemExit({exc.code})", message, "argparse", "argparse"
    )


def _read_output(output: str, printed: str) -> pd.DataFrame:
    """The rows the command wrote, read with the delimiter of its header."""
    if output.endswith(".parquet"):
        return pd.read_parquet(output)
    if output != "-":
        with open(output, newline="") as handle:
            printed = handle.read()
    header = printed.split("\n", 1)[0]
    sep = next((c for c in (",", ";", "\t", "|") if c in header), ",")
    return pd.read_csv(io.StringIO(printed), sep=sep)


def _run_cli(argv: list, rows, columns, nan_columns=()) -> Verdict:
    os.environ["SKFLOW_DEBUG"] = "1"
    errors, printed = _Tee(sys.stderr), io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(printed):
            status = skflow.cli.main(argv)
    except SystemExit as exc:
        return _usage_verdict(exc, errors.getvalue())
    if status != 0:
        message = (errors.getvalue().strip().splitlines() or [""])[-1]
        return Verdict(
            "unclear", f"exit status {status}", "exit", message, "", "skflow"
        )
    if "-o" not in argv:
        return VALID
    frame = _read_output(argv[argv.index("-o") + 1], printed.getvalue())
    if rows is not None and len(frame) != rows:
        return wrong(f"wrote {len(frame)} rows, expected {rows}")
    if columns is not None and list(frame.columns) != list(columns):
        return wrong(f"wrote the columns {list(frame.columns)[:6]}, not the input's")
    nan_ok = tuple(i for i, c in enumerate(frame.columns) if c in nan_columns)
    problem = _finite_problem(frame, nan_ok)
    return wrong(problem) if problem else VALID


LPS_PARAMS = ("max_iter=3", "hidden_layer_sizes=(8,)", "n_particles=40")
LPS_PARAMS += ("n_critic_steps=1", "batch_size=32")
SWF_PARAMS = ("max_iter=3", "hidden_layer_sizes=(8,)", "n_projections=10")


def _private_options(files: dict, **options) -> dict:
    base = {"--method": "lipschitz", "--epsilon": "3"}
    base.update({"--domains": files["domains.json"].path, "--n-samples": "20"})
    return {**base, **options}


def _option_calls(files: dict, d: str) -> list[tuple]:
    """``(option, label, options, params)`` of the option cases; ``d`` is the
    case's own folder."""
    calls = [
        ("--n-samples", v, {"--n-samples": v}, GMS_PARAMS)
        for v in ["0", "-1", "2.5", "1000000000000", "a", "2147483648", "7"]
    ]
    calls += [
        ("--holdout", v, {"--holdout": v}, GMS_PARAMS)
        for v in ["-1", "1", "1.5", "nan", "a", "0.99", "0.2"]
    ]
    calls += [
        ("--seed", v, {"--seed": v}, GMS_PARAMS)
        for v in ["-1", "8589934592", "x", "2.5", "4294967295"]
    ]
    calls += [
        ("--method", v, {"--method": v}, ())
        for v in ["nope", "", "GaussianMixtureSampler", "GMM"]
    ]
    calls.append(("--method", "sliced (small)", {"--method": "sliced"}, SWF_PARAMS))
    calls += [
        ("--param", v, {}, GMS_PARAMS + (v,))
        for v in [
            "foo=1",
            "max_iter=abc",
            "max_iter=-1",
            "noequals",
            "=5",
            "max_iter=10**12",
            "max_components=0",
            "random_state=5",
            "hidden_layer_sizes=(8,)",
            "device=cuda",
        ]
    ]
    calls += [
        ("--target", v, {"--target": v}, GMS_PARAMS)
        for v in ["zz", "num", "flag", "cat", "label", "count"]
    ]
    calls += [("--sep", v, {"--sep": v}, GMS_PARAMS) for v in ["ab", "tab", ""]]
    calls += [
        ("--encoding", v, {"--encoding": v}, GMS_PARAMS) for v in ["bogus", "utf-16"]
    ]
    calls += [
        ("--device", v, {"--device": v}, GMS_PARAMS)
        for v in ["bogus", "cuda:9", "meta", "cpu"]
    ]
    calls += [
        ("--time-budget", v, {"--method": "auto", "--time-budget": v}, ())
        for v in ["-1", "0", "nan", "a"]
    ]
    return calls + _output_calls(files, d) + _privacy_calls(files)


def _output_calls(files: dict, d: str) -> list[tuple]:
    existing, good = files["existing.csv"].path, files["good.csv"].path
    outputs = {
        "missing folder": {"-o": os.path.join(d, "no", "out.csv")},
        "the input file": {"-o": good},
        "existing file": {"-o": existing},
        "existing file, --overwrite": {"-o": os.path.join(d, "x.csv")},
        "- (stdout)": {"-o": "-"},
        "/proc/out.csv": {"-o": "/proc/out.csv"},
        "out.parquet": {"-o": os.path.join(d, "o.parquet"), "--n-samples": "20"},
        "parquet, 10**8 rows": {
            "-o": os.path.join(d, "big.parquet"),
            "--n-samples": "100000000",
        },
    }
    calls = [("--output", k, v, GMS_PARAMS) for k, v in outputs.items()]
    models = {
        "missing folder": os.path.join(d, "no", "m.joblib"),
        "same as --output": os.path.join(d, "out.csv"),
        "valid": os.path.join(d, "m.joblib"),
    }
    return calls + [
        ("--save-model", k, {"--save-model": v}, GMS_PARAMS) for k, v in models.items()
    ]


def _privacy_calls(files: dict) -> list[tuple]:
    private = functools.partial(_private_options, files)
    calls = [
        ("--epsilon", v, private(**{"--epsilon": v}), LPS_PARAMS)
        for v in ["-1", "0", "nan", "a", "3"]
    ]
    calls += [
        (
            "--epsilon",
            "3 without --domains",
            private(**{"--domains": None}),
            LPS_PARAMS,
        ),
        (
            "--epsilon",
            "3 without --n-samples",
            private(**{"--n-samples": None}),
            LPS_PARAMS,
        ),
        (
            "--epsilon",
            "3 with --method gmm",
            private(**{"--method": "gmm"}),
            GMS_PARAMS,
        ),
    ]
    calls += [
        ("--delta", v, private(**{"--delta": v}), LPS_PARAMS)
        for v in ["2", "-1", "0.5"]
    ]
    for label in ("missing.json", "bad.json", "list.json", "partial.json"):
        path = files[label].path if label in files else "/nonexistent/missing.json"
        calls.append(("--domains", label, private(**{"--domains": path}), LPS_PARAMS))
    return calls


def _cli_rows(options: dict, default):
    text = options.get("--n-samples")
    if text is None:
        return default
    return int(text) if text.lstrip("-").isdigit() else None


def cli_cases(workdir: str) -> list[Case]:
    """``skflow fit-sample`` on bad files and with bad option values."""
    files = write_cli_files(os.path.join(workdir, "cli_files"))
    cases = []
    skip = {"domains.json", "bad.json", "list.json", "partial.json", "existing.csv"}
    for i, (name, file) in enumerate(files.items()):
        if name in skip:
            continue
        folder = os.path.join(workdir, f"cli_file_{i}")
        argv = cli_argv(file.path, os.path.join(folder, "out.csv"))
        run = functools.partial(
            _run_cli_in, folder, argv, file.rows, file.columns, file.nan_columns
        )
        cases.append(
            Case("cli fit-sample", "file", "input", name, run, CLI_HINTS, folder)
        )
    good = files["good.csv"]
    for i in range(len(_option_calls(files, ""))):
        folder = os.path.join(workdir, f"cli_option_{i}")
        option, label, options, params = _option_calls(files, folder)[i]
        argv = cli_argv(good.path, os.path.join(folder, "out.csv"), options, params)
        if label == "existing file, --overwrite":
            argv.append("--overwrite")
        rows = _cli_rows(options, good.rows)
        run = functools.partial(_run_cli_in, folder, argv, rows, good.columns)
        hints = (option, option.lstrip("-"), option.lstrip("-").replace("-", "_"))
        if option == "--param" and "=" in label:
            hints += _value_hints(label.split("=", 1)[0])
        cases.append(
            Case(
                "cli fit-sample",
                "option",
                option,
                label,
                run,
                hints + CLI_HINTS,
                folder,
            )
        )
    for label, argv in {
        "(no command)": [],
        "fit-sample without input": ["fit-sample"],
        "unknown command": ["bogus"],
        "unknown flag": ["fit-sample", good.path, "--bogus-flag"],
    }.items():
        run = functools.partial(_run_cli_in, "", argv, None, None)
        cases.append(Case("cli fit-sample", "usage", "argv", label, run, CLI_HINTS))
    return cases


def _run_cli_in(folder: str, argv: list, rows, columns, nan_columns=()) -> Verdict:
    if folder:
        os.makedirs(folder, exist_ok=True)
        os.chdir(folder)
    if "--overwrite" in argv:
        with open(argv[argv.index("-o") + 1], "w") as handle:
            handle.write("old\n")
    return _run_cli(argv, rows, columns, nan_columns)


def build_cases(workdir: str) -> list[Case]:
    """Every case, in the order of the matrix's rows."""
    cases = estimator_cases() + function_cases()
    cases += save_cases(workdir) + round_trip_cases(workdir) + load_cases(workdir)
    return cases + cli_cases(workdir)


# ---------------------------------------------------------------------------
# Classifying exceptions
# ---------------------------------------------------------------------------

# scikit-learn messages that name the problem and the remedy themselves.
SKLEARN_REMEDIES = (
    "Reshape your data",
    "Use '.toarray()'",
    "Pass a DataFrame",
    "convert them all to str",
    "requires y to be passed",
    "Cannot have number of splits",
    "You can enable metadata routing",
)
REMEDY_WORDS = ("must", "expected", "expects", "use ", "pass ", "set ", "remove")
REMEDY_WORDS += ("rescale", "drop", "choose", "rename", "convert", "encode")
REMEDY_WORDS += ("instead", "at least", "at most", "should", "requires", "needs")
REMEDY_WORDS += ("give ", "call ", "try ", "reduce", "lower", "increase", "only")
REMEDY_WORDS += ("ask ", "write ", "valid ")


def _origin(filename: str) -> str:
    """Who raised: ``skflow``, ``sklearn parameter validation``, a package
    (``torch``, ``numpy``, ``sklearn``...), ``python:<module>`` or ``harness``."""
    if not os.path.isabs(filename):  # Cython sources: "numpy/random/_common.pyx"
        return filename.split("/")[0] if "/" in filename else "other"
    path = os.path.abspath(filename)
    if path.startswith(SKFLOW_DIR):
        return "skflow"
    if path.endswith(os.path.join("sklearn", "utils", "_param_validation.py")):
        return "sklearn parameter validation"
    if path == os.path.abspath(__file__):
        return "harness"
    if "site-packages" + os.sep in path:
        package = path.split("site-packages" + os.sep, 1)[1].split(os.sep)[0]
        return package.removesuffix(".py")
    if path.startswith(STDLIB_DIR):
        return "python:" + path[len(STDLIB_DIR) :].split(os.sep)[0].removesuffix(".py")
    return "other"


def _short_path(filename: str) -> str:
    if not os.path.isabs(filename):
        return filename
    path = os.path.abspath(filename)
    for marker in (SKFLOW_DIR[:-7], "site-packages" + os.sep, STDLIB_DIR):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _raising_frame(exc: BaseException) -> tuple[str, str]:
    """``(file:line in function, origin)`` of the exception's last frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "", "unknown"
    last = frames[-1]
    where = f"{_short_path(last.filename)}:{last.lineno} in {last.name}"
    return where, _origin(last.filename)


def _clear_type(exc: BaseException) -> bool:
    if type(exc).__module__.split(".")[0] == "skflow":
        return True
    if isinstance(exc, (InvalidParameterError, NotFittedError)):
        return True
    clear = (ValueError, TypeError, MemoryError, OSError, NotImplementedError)
    return isinstance(exc, clear)


def names_problem(text: str, hints: tuple) -> bool:
    """Whether a message names its argument (a hint, or its singular), a
    column, or says what to do."""
    if not text.strip():
        return False
    singulars = tuple(h[:-1] for h in hints if len(h) > 3 and h.endswith("s"))
    for hint in hints + singulars + ("column", "columns"):
        flags = 0 if len(hint) <= 2 else re.IGNORECASE
        pattern = rf"(?<![A-Za-z0-9_]){re.escape(hint)}(?![A-Za-z0-9_])"
        if re.search(pattern, text, flags):
            return True
    lower = text.lower()
    return any(word in lower for word in REMEDY_WORDS)


def classify_exception(exc: BaseException, hints: tuple) -> Verdict:
    """``clear error`` or ``unclear`` (with the reason) for an exception."""
    text = str(exc).strip()
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = repr(exc.args[0])
    first = text.splitlines()[0][:240] if text else ""
    where, origin = _raising_frame(exc)
    fitted_check = isinstance(exc, NotFittedError) and origin == "sklearn"
    # scikit-learn's input checks whose own words already give the remedy
    # (skflow appends one to those that do not: skflow._compat).
    fitted_check = fitted_check or (
        origin == "sklearn" and any(words in text for words in SKLEARN_REMEDIES)
    )
    # A method that is not available (scikit-learn's available_if): the
    # AttributeError of duck typing, whose chained cause says why and what to do.
    cause = exc.__cause__
    unavailable = (
        isinstance(exc, AttributeError)
        and cause is not None
        and _raising_frame(cause)[1] == "skflow"
        and names_problem(str(cause), hints)
    )
    if unavailable:
        return Verdict(
            "clear error",
            "",
            type(exc).__qualname__,
            f"{first} ({cause})",
            where,
            origin,
        )
    if not _clear_type(exc):
        reason = f"bare {type(exc).__name__}"
    elif origin not in ("skflow", "sklearn parameter validation") and not fitted_check:
        reason = f"raised inside {origin}"
    elif not names_problem(text, hints):
        reason = "the message names neither the argument nor a remedy"
    else:
        reason = ""
    outcome = "unclear" if reason else "clear error"
    name = type(exc).__qualname__
    module = type(exc).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module.split('.')[0]}.{name}"
    return Verdict(outcome, reason, name, first, where, origin)


# ---------------------------------------------------------------------------
# Running each case in its own child process
# ---------------------------------------------------------------------------

PROGRESS = re.compile(r"\d+%\||\d(?:it/s|s/it)\]|\|\s*\d+/\d+ \[")
TRACE_LINE = re.compile(r'File "(.+)", line (\d+) in (\S+)')


def _redirect_output(err_path: str) -> None:
    """stdin and stdout to /dev/null, stderr (fd 2) to ``err_path``."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)


def _cap_memory(gib: float) -> None:
    """Cap this process's address space at its current size plus ``gib``."""
    if not gib:
        return
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if "VmSize" in line)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + int(gib * 2**30)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _warning_summary(caught) -> str:
    if not caught:
        return ""
    kinds = Counter(w.category.__name__ for w in caught)
    first = str(caught[0].message).strip().splitlines()
    text = ", ".join(f"{k} x{n}" for k, n in kinds.items())
    return f"{text}: {first[0][:120] if first else ''}"


def run_case(case: Case) -> dict:
    """Run one case here and now; its outcome as a dict of strings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            verdict = case.run()
        except BaseException as exc:  # every exception is an outcome
            try:
                verdict = classify_exception(exc, case.hints)
            except Exception as inner:
                verdict = Verdict("unclear", f"harness: {inner!r}", type(exc).__name__)
    if not isinstance(verdict, Verdict):
        verdict = Verdict("unclear", f"harness: run returned {verdict!r}")
    result = verdict._asdict()
    result["warnings"] = _warning_summary(caught)
    return result


def _child_main(case: Case, conn, err_path: str, mem_cap_gib: float) -> None:
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _redirect_output(err_path)
    # Files a case writes by relative path (a Pipeline's memory='a' cache, a
    # CLI output) land in the run's temporary folder, not in the checkout.
    os.chdir(os.path.dirname(err_path))
    faulthandler.enable()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    _cap_memory(mem_cap_gib)
    try:
        conn.send(run_case(case))
    finally:
        os._exit(0)


@dataclass
class _Running:
    case: Case
    process: object
    conn: object
    started: float
    err_path: str


def _start(ctx, case: Case, index: int, workdir: str, mem_cap: float) -> _Running:
    reader, writer = ctx.Pipe(duplex=False)
    err_path = os.path.join(workdir, f"stderr_{index}.txt")
    process = ctx.Process(target=_child_main, args=(case, writer, err_path, mem_cap))
    process.start()
    writer.close()
    with contextlib.suppress(OSError):
        os.setpgid(process.pid, process.pid)
    return _Running(case, process, reader, time.monotonic(), err_path)


def _kill_group(pid: int) -> None:
    """Kill the case's process group: the child and whatever it started."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _dumped_frame(text: str) -> str:
    """Innermost frame (and innermost skflow frame) of the main thread in
    the last faulthandler dump."""
    blocks = re.split(r"(?:Current thread|Thread) 0x[0-9a-f]+", text)[1:]
    main = [b for b in blocks if "_child_main" in b]
    if not main:
        return ""
    frames = TRACE_LINE.findall(main[-1])
    if not frames:
        return ""
    path, line, name = frames[0]
    where = f"{_short_path(path)}:{line} in {name}"
    own = [f for f in frames if os.path.abspath(f[0]).startswith(SKFLOW_DIR)]
    if own and own[0] != frames[0]:
        where += f" (in skflow: {_short_path(own[0][0])}:{own[0][1]} in {own[0][2]})"
    return where


def _died(run: _Running) -> dict:
    code = run.process.exitcode
    frame = _dumped_frame(_read(run.err_path))
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        note = " (memory?)" if name == "SIGKILL" else ""
        verdict = Verdict("unclear", f"child killed by {name}{note}", name, "", frame)
    else:
        verdict = Verdict("unclear", f"child exited ({code}) without a result", "exit")
    return verdict._replace(message=f"process died: {verdict.detail}")._asdict()


def _collect(run: _Running) -> dict:
    try:
        result = run.conn.recv()
    except (EOFError, OSError):
        result = None
    run.process.join(10)
    if result is None:
        result = _died(run)
    _kill_group(run.process.pid)
    return result


def _stop(run: _Running, timeout: float) -> dict:
    """Classify a case still running at the limit, then kill it."""
    if run.conn.poll():  # it finished just now
        return _collect(run)
    progress = bool(PROGRESS.search(_read(run.err_path)))
    with contextlib.suppress(OSError):
        os.kill(run.process.pid, signal.SIGUSR1)
    time.sleep(0.5)
    frame = _dumped_frame(_read(run.err_path))
    _kill_group(run.process.pid)
    run.process.join(10)
    outcome = "slow (progress)" if progress else "hang"
    detail = f"still running after {timeout:g} s"
    return Verdict(outcome, detail, "", detail, frame)._asdict()


def _finish(run: _Running) -> None:
    run.conn.close()
    with contextlib.suppress(OSError):
        os.remove(run.err_path)
    if run.case.cleanup:
        shutil.rmtree(run.case.cleanup, ignore_errors=True)


def run_all(cases: list[Case], *, timeout, jobs, mem_cap, workdir) -> list[dict]:
    """Run every case in a forked child, ``jobs`` at a time; their results."""
    ctx = multiprocessing.get_context("fork")
    queue, running = deque(range(len(cases))), {}
    results: list = [None] * len(cases)
    start = time.monotonic()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                i = queue.popleft()
                running[i] = _start(ctx, cases[i], i, workdir, mem_cap)
            conns = [run.conn for run in running.values()]
            ready = multiprocessing.connection.wait(conns, timeout=0.2)
            for i, run in list(running.items()):
                if run.conn in ready:
                    result = _collect(run)
                elif time.monotonic() - run.started > timeout:
                    result = _stop(run, timeout)
                else:
                    continue
                result["seconds"] = round(time.monotonic() - run.started, 3)
                results[i] = result
                _finish(run)
                del running[i]
                _report_progress(results, start)
    finally:
        for run in running.values():
            _kill_group(run.process.pid)
    return results


def _report_progress(results: list, start: float) -> None:
    done = [r for r in results if r is not None]
    if len(done) % 50 and len(done) != len(results):
        return
    counts = Counter(r["outcome"] for r in done)
    summary = ", ".join(f"{k} {v}" for k, v in counts.most_common())
    elapsed = time.monotonic() - start
    print(f"[{len(done)}/{len(results)}] {elapsed:.0f} s: {summary}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

CSV_FIELDS = ["index", "target", "kind", "name", "value", "outcome", "exc_type"]
CSV_FIELDS += ["message", "frame", "origin", "detail", "seconds", "warnings"]


def write_csv(path: str, cases: list[Case], results: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for i, (case, result) in enumerate(zip(cases, results)):
            row = {"index": i, "target": case.target, "kind": case.kind}
            row.update({"name": case.name, "value": case.value, **result})
            writer.writerow(row)


def matrix_table(cases: list[Case], results: list[dict]) -> str:
    """The outcome matrix in markdown: one row per estimator or function."""
    counts: dict[str, Counter] = {}
    for case, result in zip(cases, results):
        counts.setdefault(case.target, Counter())[result["outcome"]] += 1
    lines = ["| estimator / function | cases | " + " | ".join(OUTCOMES) + " |"]
    lines.append("|---|" + "---:|" * (len(OUTCOMES) + 1))
    for target, count in counts.items():
        cells = " | ".join(str(count[o]) for o in OUTCOMES)
        lines.append(f"| {target} | {sum(count.values())} | {cells} |")
    total = sum(counts.values(), Counter())
    cells = " | ".join(f"**{total[o]}**" for o in OUTCOMES)
    lines.append(f"| **total** | **{sum(total.values())}** | {cells} |")
    return "\n".join(lines)


def _section(result: dict) -> str:
    section = result["outcome"]
    if section == "unclear" and result["frame"].startswith("sklearn/utils/valid"):
        section += ", raised by sklearn's check_array"
    return section


def _normalized(message: str) -> str:
    """The message with estimator names replaced, to group alike errors."""
    names = sorted({spec.name for spec in _specs()}, key=len, reverse=True)
    for name in names:
        message = message.replace(name, "{estimator}")
    return re.sub(r"0x[0-9a-f]+", "0x..", message)


def _listed(members: list[tuple[Case, dict]]) -> str:
    """``Target: kind name=value, ...; Other: ...``."""
    by_target: dict[str, list[str]] = {}
    for case, _ in members:
        label = f"{case.kind} {case.name}={case.value}"
        by_target.setdefault(case.target, []).append(label)
    return "; ".join(f"{t}: {', '.join(labels)}" for t, labels in by_target.items())


def bug_list(cases: list[Case], results: list[dict]) -> str:
    """Every unclear, silent wrong and hanging case, by section; cases with
    the same exception, message (estimator names aside) and frame share a
    line."""
    groups: dict[tuple, list] = {}
    for case, r in zip(cases, results):
        if r["outcome"] in BUGS:
            key = (_section(r), r["exc_type"], _normalized(r["message"]))
            groups.setdefault(key + (r["frame"], r["detail"]), []).append((case, r))
    order = [
        "silent wrong",
        "hang",
        "unclear",
        "unclear, raised by sklearn's check_array",
    ]
    lines = []
    for section in order:
        keys = [k for k in groups if k[0] == section]
        if not keys:
            continue
        n_cases = sum(len(groups[k]) for k in keys)
        lines.append(f"\n### {section} ({n_cases} cases)\n")
        for key in keys:
            _, exc_type, _, frame, detail = key
            members = groups[key]
            first = members[0][1]
            what = f"`{exc_type}`: {first['message']}" if exc_type else detail
            why = f" ({detail})" if exc_type and detail else ""
            where = f" at `{frame}`" if frame else ""
            lines.append(f"- {what}{where}{why} -- {len(members)}: {_listed(members)}")
    return "\n".join(lines) if lines else "(none)"


def accepted_list(cases: list[Case], results: list[dict]) -> str:
    """Valid outcomes with values that are never sensible (NaN, inf, 1e300,
    'a', [1], (), or a non-bool for a flag): accepted without complaint."""
    members = [
        (case, r)
        for case, r in zip(cases, results)
        if r["outcome"] == "valid" and case.meaningless
    ]
    return _listed(members).replace("; ", "\n- ") if members else "(none)"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def select_cases(cases: list[Case], only, quick: int | None) -> list[Case]:
    """The cases of the ``--only`` rows; with ``quick``, an evenly spread
    subset of about that many, in proportion to each row's cases."""
    if only:
        wanted = [text.lower() for text in only]
        cases = [c for c in cases if any(w in c.target.lower() for w in wanted)]
    if not quick or len(cases) <= quick:
        return cases
    by_target: dict[str, list[Case]] = {}
    for case in cases:
        by_target.setdefault(case.target, []).append(case)
    chosen = []
    for group in by_target.values():
        share = max(1, round(quick * len(group) / len(cases)))
        picks = np.unique(np.linspace(0, len(group) - 1, share).round().astype(int))
        chosen += [group[i] for i in picks]
    return chosen


def _warm_up() -> None:
    """Import here what the children would each import on first use."""
    import opacus  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.mixture  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.neighbors  # noqa: F401

    from skflow._torch_utils import import_optimizer_modules

    import_optimizer_modules()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Throw bad input and parameters at skflow; classify outcomes."
    )
    parser.add_argument("--quick", action="store_true", help="a ~150-case subset")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="rows whose name has NAME"
    )
    parser.add_argument("--out", default="/tmp/adversarial_cases.csv")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per case (60; quick 10)"
    )
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="cases at once"
    )
    parser.add_argument("--mem-cap-gib", type=float, default=8.0)
    parser.add_argument("--list", action="store_true", help="count cases, run none")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    timeout = args.timeout or (10.0 if args.quick else 60.0)
    workdir = tempfile.mkdtemp(prefix="skflow_adversarial_")
    try:
        cases = select_cases(
            build_cases(workdir), args.only, 150 if args.quick else None
        )
        if args.list:
            for target, n in Counter(c.target for c in cases).items():
                print(f"{n:6d}  {target}")
            print(f"{len(cases):6d}  total")
            return 0
        _warm_up()
        start = time.monotonic()
        results = run_all(
            cases,
            timeout=timeout,
            jobs=args.jobs,
            mem_cap=args.mem_cap_gib,
            workdir=workdir,
        )
        seconds = time.monotonic() - start
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_csv(args.out, cases, results)
    print(
        f"## Adversarial outcome matrix ({len(cases)} cases, {seconds / 60:.1f} min)\n"
    )
    print(matrix_table(cases, results))
    print(
        f"\nPer-case detail: {args.out}\n\n## Unclear, silent wrong and hanging cases\n"
    )
    print(bug_list(cases, results))
    print("\n## Accepted without complaint (valid, but never a sensible value)\n")
    print("- " + accepted_list(cases, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
