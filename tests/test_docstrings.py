"""The public docstrings: their examples run, and they pass numpydoc validation.

Doctests: every docstring in every skflow module that has ``>>>`` examples is
one test, run by :mod:`doctest` with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``.
The examples print shapes, labels, exact identities and comparisons, never
floats that may differ between platforms or thread counts, and use fast
settings (small ``max_iter``).

numpydoc: :func:`numpydoc.validate.validate` on every public class, its public
methods and properties written in skflow, and every public function of the
modules in ``PUBLIC_MODULES``. Every numpydoc check is enforced except those in
``IGNORED_EVERYWHERE`` and the per-kind exclusions of ``filter_errors``, each
with its reason.
"""

import copy
import doctest
import importlib
import inspect
import io
import pkgutil

import pytest
from threadpoolctl import threadpool_limits

import skflow

# --------------------------------------------------------------------------
# Doctests
# --------------------------------------------------------------------------


# Modules that need an optional extra, with the package they import.
OPTIONAL_MODULES = {"skflow.dask": "dask.dataframe"}


def _importable(name: str) -> bool:
    """Whether the extra that module ``name`` needs is installed."""
    needed = OPTIONAL_MODULES.get(name)
    if needed is None:
        return True
    try:
        importlib.import_module(needed)
    except ImportError:
        return False
    return True


def _skflow_modules():
    """Every module of the package (``__main__`` runs the command line), less
    those whose optional extra is not installed."""
    names = ["skflow"]
    for module in pkgutil.walk_packages(skflow.__path__, prefix="skflow."):
        if module.name.split(".")[-1] != "__main__":
            names.append(module.name)
    return [importlib.import_module(name) for name in names if _importable(name)]


def _doctests():
    # DocTestFinder keeps only objects defined in the module searched, so a
    # class re-exported by a package is found once, in its own module.
    finder = doctest.DocTestFinder()
    tests = []
    for module in _skflow_modules():
        tests += [test for test in finder.find(module) if test.examples]
    return sorted(tests, key=lambda test: test.name)


DOCTESTS = _doctests()


def test_doctests_are_collected():
    # A guard on the collection itself: every sampler's examples are found.
    names = {test.name.split(".")[-1] for test in DOCTESTS}
    assert {
        "LipschitzParticleSampler",
        "SlicedWassersteinFlow",
        "ProximalMFGFlow",
        "EntropicOTGenerator",
        "save",
    } <= names


# The examples fit with a handful of iterations on purpose: the samplers say so
# with a ConvergenceWarning, which is not what the examples are about.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("test", DOCTESTS, ids=[test.name for test in DOCTESTS])
def test_docstring_examples(test, tmp_path, monkeypatch):
    # Examples that write files (save/load) write them in a fresh folder.
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report = io.StringIO()
    # One BLAS/OpenMP thread: the examples are tiny, and on a busy machine the
    # OpenMP threads of the HistGradientBoostingClassifier in c2st_auc and
    # sample_report oversubscribe the CPUs (2-12 s instead of 0.2 s on two
    # shared cores). skflow's own thread policy covers torch.
    # A copy with its own globals, so that a rerun starts from the module's.
    test = copy.copy(test)
    test.globs = dict(test.globs)
    with threadpool_limits(limits=1):
        result = runner.run(test, out=report.write, clear_globs=True)
    assert result.failed == 0, report.getvalue()


# --------------------------------------------------------------------------
# numpydoc validation
# --------------------------------------------------------------------------

# The modules whose ``__all__`` is the public API.
PUBLIC_MODULES = [
    "skflow",
    "skflow.metrics",
    "skflow.datasets",
    "skflow.plotting",
    "skflow.encoders",
    "skflow.pipeline",
    "skflow.augment",
    "skflow.exceptions",
    "skflow.dask",
]
PUBLIC_MODULES = [name for name in PUBLIC_MODULES if _importable(name)]

# Checks not enforced on any docstring, with the reason.
IGNORED_EVERYWHERE = {
    # "The first line of the Returns section should contain only the type":
    # we name what is returned (``self : object``, ``X_new : ndarray ...``) so
    # that the text can refer to it, as scikit-learn does.
    "RT02",
}

# Checks enforced on class and function docstrings only. A method's examples,
# related objects and longer story are in its class's docstring (the sklearn
# convention); its own docstring says what it takes and returns.
CLASS_AND_FUNCTION_ONLY = {"ES01", "SA01", "EX01"}


def _public_objects():
    """``(import path, kind)`` for every public object, each once.

    ``kind`` is "class", "exception", "function", "method" or "property".
    Methods and properties are those written in skflow (possibly inherited
    from an skflow base class); those inherited from scikit-learn (e.g.
    ``get_params``, ``set_output``, the metadata-routing ``set_*_request``)
    are scikit-learn's to document.
    """
    seen = set()
    objects = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("__") or inspect.ismodule(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            path = f"{module_name}.{name}"
            if inspect.isfunction(obj):
                objects.append((path, "function"))
                continue
            if issubclass(obj, BaseException):
                objects.append((path, "exception"))
                continue
            objects.append((path, "class"))
            for attribute in sorted(dir(obj)):
                if attribute.startswith("_"):
                    continue
                raw = inspect.getattr_static(obj, attribute)
                is_property = isinstance(raw, property)
                target = raw.fget if is_property else getattr(obj, attribute)
                if not callable(target) or not getattr(
                    target, "__module__", ""
                ).startswith("skflow"):
                    continue
                kind = "property" if is_property else "method"
                objects.append((f"{path}.{attribute}", kind))
    return objects


PUBLIC_OBJECTS = _public_objects()


def filter_errors(errors, kind, path):
    """The numpydoc errors enforced for an object of this ``kind``."""
    for code, message in errors:
        if code in IGNORED_EVERYWHERE:
            continue
        if kind in ("method", "property") and code in CLASS_AND_FUNCTION_ONLY:
            continue
        # The exception classes are one-line docstrings, as in
        # sklearn.exceptions: what happened, nothing to show or link to.
        if kind == "exception" and code in CLASS_AND_FUNCTION_ONLY:
            continue
        # The plotting helpers draw figures; a doctest could only show an Axes
        # repr. tests/test_plotting.py and the example gallery show them.
        if path.startswith("skflow.plotting.") and code == "EX01":
            continue
        # A property takes no parameters; numpydoc reads a documented value
        # as an unknown parameter (as in scikit-learn's test).
        if kind == "property" and code == "PR02":
            continue
        yield code, message


def test_public_objects_are_collected():
    paths = {path for path, _ in PUBLIC_OBJECTS}
    assert {
        "skflow.LipschitzParticleSampler",
        "skflow.LipschitzParticleSampler.sample",
        "skflow.GenerativePipeline.sample",
        "skflow.metrics.energy_distance",
        "skflow.datasets.make_sphere",
        "skflow.plotting.plot_pca",
        "skflow.save",
        "skflow.DeviceWarning",
    } <= paths
    # Inherited from scikit-learn, not validated here.
    assert "skflow.LipschitzParticleSampler.get_params" not in paths


@pytest.mark.parametrize(
    "path, kind", PUBLIC_OBJECTS, ids=[path for path, _ in PUBLIC_OBJECTS]
)
def test_numpydoc(path, kind):
    numpydoc_validate = pytest.importorskip("numpydoc.validate")
    result = numpydoc_validate.validate(path)
    errors = list(filter_errors(result["errors"], kind, path))
    if errors:
        listing = "\n".join(f"  {code}: {message}" for code, message in errors)
        pytest.fail(f"{path} ({result['file']}:{result['file_line']}):\n{listing}")
