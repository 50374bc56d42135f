"""Sphinx configuration of the skflow documentation.

Build (no network needed)::

    python -m sphinx -W -b html doc doc/_build/html

The user-guide pages are Markdown (MyST); the API reference is generated from the
numpydoc docstrings; the examples gallery is built from ``examples/`` by
sphinx-gallery. ``-D plot_gallery=0`` skips running the examples (the test suite
runs them).
"""

import os
import re
import sys
from datetime import date

sys.path.insert(0, os.path.abspath(".."))

import skflow  # noqa: E402

project = "skflow"
author = "skflow developers"
copyright = f"{date.today().year}, {author}"
release = skflow.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5"]
templates_path = ["_templates"]

# Markdown pages use $...$ / $$...$$ math and (label)= targets.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

autosummary_generate = True
# Document sample/score/fit inherited from BaseSampler, not scikit-learn's own
# BaseEstimator methods (their docstrings point into scikit-learn's docs).
autodoc_default_options = {
    "members": True,
    "inherited-members": "BaseEstimator,_MetadataRequester,Pipeline,_SetOutputMixin",
    "exclude-members": "__init__",
}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# numpydoc's own checks: every public docstring has a summary and parameters.
numpydoc_validation_checks = {"GL08"}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skflow {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
}
html_static_path = []

# `name` is code, as in scikit-learn's docstrings (`n_features_in_` in shapes).
default_role = "literal"

_FITTED_NAME_IN_SHAPE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[,)])")


def _quote_fitted_names_in_shapes(app, what, name, obj, options, lines):
    """Quote ``n_features_in_`` and the like inside ``of shape (...)``.

    A trailing underscore is reST's hyperlink syntax; scikit-learn writes these
    names in backquotes, which we do here once instead of in every docstring.
    """
    for i, line in enumerate(lines):
        if "shape (" in line:
            head, _, tail = line.partition("shape (")
            lines[i] = head + "shape (" + _FITTED_NAME_IN_SHAPE.sub(r"`\1`", tail)


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """Hide scikit-learn's metadata-routing helpers (documented by scikit-learn)."""
    if name == "get_metadata_routing" or (
        name.startswith("set_") and name.endswith("_request")
    ):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _quote_fitted_names_in_shapes)
    app.connect("autodoc-skip-member", _skip_metadata_requests)
