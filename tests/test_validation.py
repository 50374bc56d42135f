"""The one count validator, ``skflow._validation.check_count``."""

import numpy as np
import pytest

from skflow._validation import check_count


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
