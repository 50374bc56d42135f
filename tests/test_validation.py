"""The shared validators of ``skflow._validation``."""

import numpy as np
import pytest

from skflow._validation import check_bool, check_count, check_real


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1), np.uint8(5)])
def test_integers_pass_as_python_ints(value):
    checked = check_count(value, "n")
    assert checked == int(value) and type(checked) is int


@pytest.mark.parametrize("value", [True, np.bool_(True), 2.5, 3.0, "3", None, [2]])
def test_non_integers_are_type_errors_naming_the_argument(value):
    # Also a ValueError, as scikit-learn's InvalidParameterError is.
    for error in (TypeError, ValueError):
        with pytest.raises(error, match=r"n_rows must be a positive integer, got"):
            check_count(value, "n_rows")


@pytest.mark.parametrize("value, minimum", [(0, 1), (-1, 1), (2, 3)])
def test_too_small_is_a_value_error_with_the_minimum(value, minimum):
    with pytest.raises(ValueError, match=f"n_rows must be .*got {value}"):
        check_count(value, "n_rows", minimum=minimum)
    if minimum > 1:
        with pytest.raises(ValueError, match=f">= {minimum}"):
            check_count(value, "n_rows", minimum=minimum)


def test_none_only_where_allowed_and_the_remedy_is_named():
    assert check_count(None, "max_samples", allow_none=True) is None
    with pytest.raises(TypeError, match="or None.*; pass e.g. 10"):
        check_count(2.5, "max_samples", allow_none=True, remedy="pass e.g. 10")
    with pytest.raises(ValueError, match="; pass e.g. 10$"):
        check_count(0, "max_samples", remedy="pass e.g. 10")


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.int64(2), 2.0])
def test_real_numbers_pass_as_python_floats(value):
    checked = check_real(value, "h", low=0.0, low_inclusive=False)
    assert checked == float(value) and type(checked) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), "1.0", None, [1.0], 1j])
def test_non_numbers_are_type_errors_naming_the_argument(value):
    for error in (TypeError, ValueError):
        with pytest.raises(error, match="bandwidth must be a finite real number"):
            check_real(value, "bandwidth")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, float("inf")])
def test_non_finite_numbers_are_value_errors(value):
    with pytest.raises(ValueError, match="finite real number"):
        check_real(value, "p")


@pytest.mark.parametrize(
    "value, bounds, shown",
    [
        (0.0, dict(low=0.0, low_inclusive=False), "> 0"),
        (-1.0, dict(low=0.0), ">= 0"),
        (0.5, dict(low=1.0, high=100.0), r"in \[1, 100\]"),
        (101, dict(low=1.0, high=100.0), r"in \[1, 100\]"),
        (1.0, dict(low=0.0, high=1.0, high_inclusive=False), r"in \[0, 1\)"),
        (3.0, dict(high=2.0), "<= 2"),
    ],
)
def test_out_of_range_is_a_value_error_with_the_bounds(value, bounds, shown):
    with pytest.raises(ValueError, match=f"q must be a finite real number {shown}"):
        check_real(value, "q", **bounds)


def test_bounds_themselves_pass_when_inclusive_and_none_where_allowed():
    assert check_real(1.0, "p", low=1.0, high=100.0) == 1.0
    assert check_real(100, "p", low=1.0, high=100.0) == 100.0
    assert check_real(None, "h", allow_none=True) is None
    with pytest.raises(ValueError, match=r">= 0 or None, got -1.0; pick another$"):
        check_real(-1.0, "h", low=0.0, allow_none=True, remedy="pick another")


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_bools_pass_check_bool(value):
    assert check_bool(value, "standardize") is bool(value)


@pytest.mark.parametrize("value", [0, 1, "yes", None, 1.0])
def test_check_bool_refuses_everything_else(value):
    for error in (TypeError, ValueError):
        with pytest.raises(error, match="standardize must be True or False, got"):
            check_bool(value, "standardize")


def test_check_memory_names_the_largest_need_and_its_remedy():
    from skflow._validation import check_memory
    from skflow.exceptions import InsufficientMemoryError

    needs = {"batch_size=10": (2**20, "lower batch_size."), "tiny": (1, "no.")}
    check_memory("Model.fit", needs, limit=2**21)
    with pytest.raises(
        InsufficientMemoryError,
        match=r"^Model.fit would need about 1 MiB of memory \(1 MiB of it for "
        r"batch_size=10\), more than the 512 KiB of this machine; lower batch_size.$",
    ):
        check_memory("Model.fit", needs, limit=2**19)


def test_memory_limit_falls_back_without_sysconf(monkeypatch):
    import skflow._validation as validation

    assert validation.memory_limit() > 2**26
    monkeypatch.delattr(validation.os, "sysconf")
    assert validation.memory_limit() == 2**40


def test_sizes_are_counted_in_python_ints():
    from skflow._validation import network_bytes, training_bytes

    assert network_bytes((3, 4, 1), 8) == 8 * (4 * 4 + 5 * 1)
    weights, batch = training_bytes((10**12, 10**12), 10**12, 8)
    assert weights == 4 * 8 * (10**12 + 1) * 10**12 and batch > 2**64


def test_skflow_interval_refuses_bools_and_says_so():
    from numbers import Integral, Real

    from sklearn.utils._param_validation import Interval as SklearnInterval

    from skflow._compat import Interval, refusing_bools

    counts = Interval(Integral, 1, None, closed="left")
    assert counts.is_satisfied_by(3) and counts.is_satisfied_by(np.int64(3))
    assert not counts.is_satisfied_by(True) and not counts.is_satisfied_by(np.bool_(1))
    assert str(counts) == "an int (not a bool) in the range [1, inf)"
    rates = Interval(Real, 0.0, 1.0, closed="right")
    assert rates.is_satisfied_by(0.5) and not rates.is_satisfied_by(True)
    # An inherited sklearn Interval (imbalanced-learn's) becomes ours.
    (converted, other) = refusing_bools(
        [SklearnInterval(Real, 0, 1, closed="right"), "auto"]
    )
    assert isinstance(converted, Interval) and other == "auto"
    assert not converted.is_satisfied_by(True) and converted.is_satisfied_by(0.5)
