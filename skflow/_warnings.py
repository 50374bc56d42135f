"""Warnings that point at the user's line, not at skflow's or scikit-learn's."""

from __future__ import annotations

import os
import sys
import warnings

import joblib
import sklearn

# Frames in these folders are library frames: skflow itself, scikit-learn's
# wrappers around ``fit`` (parameter validation, ``_fit_context``) and joblib's
# ``Parallel``, through which ClassConditionalSampler fits its clones.
_LIBRARY_FOLDERS = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (__file__, sklearn.__file__, joblib.__file__)
)


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first frame outside the libraries.

    The depth from a public method to a warning varies with decorators, device
    plumbing and meta-estimators, so a fixed ``stacklevel`` lands inside the
    library; walking out of it lands on the line that called skflow, which is
    what a user can act on (and what ``warnings`` filters by module match).
    Python 3.12's ``skip_file_prefixes`` does the same; skflow supports 3.10.
    """
    # stacklevel 1 is this function; 2 is its caller, the first frame tested.
    frame = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_FOLDERS):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
