"""Saving fitted estimators in a format that loads without running code.

``joblib``/``pickle`` files can execute arbitrary code when loaded, so they are for
trusted files only. :func:`save` writes a zip archive that holds no code at all:

* ``manifest.json``: the estimator as a JSON tree: parameters and fitted
  attributes as JSON values, with tagged objects for what JSON lacks (tuples,
  numpy dtypes, random states, nested estimators by class name);
* ``arrays.npz``: numeric numpy arrays, read back with ``allow_pickle=False``;
* ``tensors.pt``: torch tensors, read back with ``torch.load(weights_only=True)``;
* ``checksums.json``: SHA-256 of the three members, so a truncated or corrupted
  file is refused with a clear error instead of half-loading.

:func:`load` rebuilds only the estimator classes of ``skflow`` and
``scikit-learn`` (estimators and transformers), from their data, by the same
``__setstate__`` that unpickling uses: nothing in the file is ever executed, and
no module named in the file is imported: class names are looked up in a
registry of the classes these two packages define.

The JSON tree format is written here by hand: neither scikit-learn nor joblib
offers a pickle-free format for estimator state (``skops`` does, for
scikit-learn only, but not for torch tensors).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator

from ._version import __version__

__all__ = ["load", "save"]

_FORMAT = "skflow-estimator"
_FORMAT_VERSION = 1
_MEMBERS = ("manifest.json", "arrays.npz", "tensors.pt")
_CHECKSUMS = "checksums.json"
# Classes are rebuilt only from these packages' modules.
_TRUSTED_PACKAGES = ("skflow", "sklearn")
# Plain Python types that may appear as parameter values (e.g. ``dtype=float``).
_BUILTIN_TYPES = {t.__name__: t for t in (float, int, bool, str, complex, object)}


class _Writer:
    """Turns an object tree into JSON values, collecting arrays and tensors."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.tensors: dict[str, torch.Tensor] = {}

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if type(obj) is int:
            return obj
        if type(obj) is float:
            return {"__float__": repr(obj)} if not np.isfinite(obj) else obj
        if isinstance(obj, np.generic):
            return {
                "__scalar__": obj.dtype.str,
                "value": self.encode(obj.item(), where),
            }
        if isinstance(obj, torch.Tensor):
            key = f"t{len(self.tensors)}"
            self.tensors[key] = obj.detach().to("cpu").contiguous()
            return {"__tensor__": key}
        if isinstance(obj, np.ndarray):
            return self._encode_array(obj, where)
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.str if obj.kind != "O" else "object"}
        if isinstance(obj, type) and (
            issubclass(obj, np.generic) or obj in _BUILTIN_TYPES.values()
        ):
            # Type objects as parameters, e.g. OneHotEncoder(dtype=np.float64).
            name = obj.__name__ if obj in _BUILTIN_TYPES.values() else np.dtype(obj).str
            return {"__type__": name}
        if isinstance(obj, np.random.RandomState):
            return {"__random_state__": self.encode(obj.get_state(), where)}
        if isinstance(obj, tuple):
            return {
                "__tuple__": [
                    self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)
                ]
            }
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if all(type(key) is str for key in obj):
                return {
                    "__dict__": {
                        k: self.encode(v, f"{where}[{k!r}]") for k, v in obj.items()
                    }
                }
            return {
                "__items__": [
                    [self.encode(k, where), self.encode(v, f"{where}[{k!r}]")]
                    for k, v in obj.items()
                ]
            }
        pandas_dtype = self._encode_pandas_dtype(obj, where)
        if pandas_dtype is not None:
            return pandas_dtype
        if isinstance(obj, BaseEstimator) and _is_trusted(type(obj).__module__):
            state = obj.__getstate__() if hasattr(obj, "__getstate__") else obj.__dict__
            return {
                "__estimator__": f"{type(obj).__module__}:{type(obj).__qualname__}",
                "state": self.encode(dict(state), f"{where}.{type(obj).__name__}"),
            }
        raise TypeError(
            f"skflow.save cannot store {type(obj).__module__}.{type(obj).__qualname__} "
            f"(found at {where}) without pickle. Use joblib.dump for files you only "
            "load yourself."
        )

    def _encode_array(self, array: np.ndarray, where: str):
        if array.dtype.kind in "biufc":
            key = f"a{len(self.arrays)}"
            self.arrays[key] = array
            return {"__ndarray__": key}
        if array.dtype.kind in "OUS":
            # Object arrays (feature names, string categories) as JSON lists.
            return {
                "__object_array__": [
                    self.encode(v, where) for v in array.ravel().tolist()
                ],
                "shape": list(array.shape),
                "dtype": array.dtype.str if array.dtype.kind != "O" else "object",
            }
        raise TypeError(
            f"skflow.save cannot store an array of dtype {array.dtype} (found at "
            f"{where}) without pickle; use joblib.dump for trusted storage."
        )

    def _encode_pandas_dtype(self, obj, where: str):
        try:
            import pandas as pd
        except ImportError:
            return None
        if isinstance(obj, pd.CategoricalDtype):
            categories = None if obj.categories is None else obj.categories.to_numpy()
            return {
                "__categorical_dtype__": self.encode(categories, where),
                "ordered": bool(obj.ordered),
            }
        if isinstance(obj, pd.api.extensions.ExtensionDtype):
            return {"__pandas_dtype__": obj.name}
        return None


class _Reader:
    """Rebuilds the object tree from JSON values, arrays and tensors."""

    def __init__(self, arrays, tensors):
        self.arrays = arrays
        self.tensors = tensors

    def decode(self, value):
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__dict__" in value:
            return {k: self.decode(v) for k, v in value["__dict__"].items()}
        if "__items__" in value:
            return {self.decode(k): self.decode(v) for k, v in value["__items__"]}
        if "__tuple__" in value:
            return tuple(self.decode(v) for v in value["__tuple__"])
        if "__float__" in value:
            return float(value["__float__"])
        if "__scalar__" in value:
            return np.dtype(value["__scalar__"]).type(self.decode(value["value"]))
        if "__ndarray__" in value:
            return self.arrays[value["__ndarray__"]]
        if "__tensor__" in value:
            return self.tensors[value["__tensor__"]]
        if "__object_array__" in value:
            items = [self.decode(v) for v in value["__object_array__"]]
            array = np.empty(len(items), dtype=object)
            array[:] = items
            if value["dtype"] != "object":
                array = array.astype(value["dtype"])
            return array.reshape(value["shape"])
        if "__dtype__" in value:
            return np.dtype(value["__dtype__"])
        if "__type__" in value:
            name = value["__type__"]
            return (
                _BUILTIN_TYPES[name] if name in _BUILTIN_TYPES else np.dtype(name).type
            )
        if "__random_state__" in value:
            random_state = np.random.RandomState()
            random_state.set_state(self.decode(value["__random_state__"]))
            return random_state
        if "__categorical_dtype__" in value:
            import pandas as pd

            return pd.CategoricalDtype(
                self.decode(value["__categorical_dtype__"]), ordered=value["ordered"]
            )
        if "__pandas_dtype__" in value:
            import pandas as pd

            return pd.api.types.pandas_dtype(value["__pandas_dtype__"])
        if "__estimator__" in value:
            cls = _trusted_class(value["__estimator__"])
            obj = cls.__new__(cls)
            state = self.decode(value["state"])
            if hasattr(obj, "__setstate__"):
                obj.__setstate__(state)
            else:
                obj.__dict__.update(state)
            return obj
        raise ValueError(f"unknown entry {sorted(value)[:3]} in the manifest")


def _is_trusted(module: str) -> bool:
    return module.split(".")[0] in _TRUSTED_PACKAGES


def _subclasses(cls: type):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _estimator_classes() -> dict[str, type]:
    """The classes :func:`load` may rebuild, by ``"module:qualname"``.

    The estimator classes of skflow and scikit-learn whose modules are imported:
    skflow's own public modules are imported here by name, in code, so that
    nested private classes (the columns of a ``TabularEncoder``) are present.
    Not cached: a class imported after the first load is found by the next.
    """
    from . import (  # noqa: F401
        augment,
        auto,
        encoders,
        impute,
        ot,
        particles,
        pipeline,
        proximal,
        sliced,
    )

    return {
        f"{cls.__module__}:{cls.__qualname__}": cls
        for cls in _subclasses(BaseEstimator)
        if _is_trusted(cls.__module__)
    }


@functools.cache
def _import_sklearn_estimators() -> None:
    # scikit-learn's own crawler imports its public modules (a quarter of a
    # second), so that their classes join _estimator_classes; done only when a
    # file names a class that is not imported yet.
    from sklearn.utils import all_estimators

    all_estimators()


def _public_package(module: str) -> str:
    """``"sklearn.preprocessing._data"`` -> ``"sklearn.preprocessing"``."""
    parts = module.split(".")
    private = [i for i, part in enumerate(parts) if part.startswith("_")]
    return ".".join(parts[: private[0]] if private else parts)


def _find_class(spec: str, classes: dict[str, type]) -> type | None:
    if spec in classes:
        return classes[spec]
    module, _, qualname = spec.partition(":")
    registered = set(classes.values())
    # The same class under a public name (``skflow:TabularEncoder``), read from
    # the module's namespace only if it is imported already: vars(), not
    # getattr, so that no module-level __getattr__ imports anything.
    namespace = sys.modules.get(module) if _is_trusted(module) else None
    alias = vars(namespace).get(qualname) if namespace is not None else None
    if alias in registered:
        return alias
    # Or moved between private modules of one package since the file was
    # written (``sklearn.preprocessing._data`` to another ``_`` module).
    matches = {
        cls
        for cls in registered
        if cls.__qualname__ == qualname
        and _public_package(cls.__module__) == _public_package(module)
    }
    return matches.pop() if len(matches) == 1 else None


def _trusted_class(spec) -> type:
    """The registered estimator class that ``spec`` names, never importing it."""
    cls = None
    if isinstance(spec, str):
        cls = _find_class(spec, _estimator_classes())
        if cls is None and _is_trusted(spec.partition(":")[0]):
            _import_sklearn_estimators()
            cls = _find_class(spec, _estimator_classes())
    if cls is None:
        raise ValueError(
            f"refusing to load class {spec!r}: skflow.load only rebuilds the "
            "estimator classes of skflow and scikit-learn. The file was not "
            "written by skflow.save, or names a class that this skflow or "
            "scikit-learn does not have (install the versions that wrote it)."
        )
    return cls


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save(estimator, path) -> None:
    """Save a fitted (or unfitted) estimator to a file that loads without pickle.

    The file holds data only: parameters, fitted attributes, arrays and tensors,
    never code, so that :func:`load` executes nothing from it. ``joblib.dump``
    (pickle) also works with skflow estimators, for files only you will load.

    Parameters
    ----------
    estimator : skflow or scikit-learn estimator
        Any skflow sampler, transformer or pipeline, possibly fitted on a GPU:
        tensors are stored on the CPU.
    path : str or path-like
        File to write (a zip archive; the ``.skflow`` suffix is customary).

    Raises
    ------
    TypeError
        If the estimator holds something that cannot be stored as data (for
        example a Python function or a class from another package); use
        ``joblib.dump`` for files that only you will load.

    See Also
    --------
    load : Read the file back.

    Notes
    -----
    The archive holds a JSON manifest (parameters, fitted attributes, nested
    estimators by class name), numpy arrays (``.npz``, read without pickle),
    torch tensors (read with ``weights_only=True``) and SHA-256 checksums.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_wine
    >>> from skflow import EntropicOTGenerator, load, save
    >>> X, _ = load_wine(return_X_y=True)
    >>> model = EntropicOTGenerator(max_iter=5, random_state=0).fit(X)
    >>> save(model, "model.skflow")
    >>> X_new = model.sample(3, random_state=0)
    >>> np.array_equal(load("model.skflow").sample(3, random_state=0), X_new)
    True
    """
    writer = _Writer()
    manifest = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "skflow_version": __version__,
        "estimator": writer.encode(estimator, type(estimator).__name__),
    }
    arrays = io.BytesIO()
    np.savez(arrays, **writer.arrays)
    tensors = io.BytesIO()
    torch.save(writer.tensors, tensors)
    contents = {
        "manifest.json": json.dumps(manifest).encode("utf-8"),
        "arrays.npz": arrays.getvalue(),
        "tensors.pt": tensors.getvalue(),
    }
    checksums = {name: _digest(data) for name, data in contents.items()}
    with zipfile.ZipFile(Path(path), "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
        archive.writestr("checksums.json", json.dumps(checksums))


def load(path):
    """Load an estimator written by :func:`save`, without executing code.

    Only classes defined in skflow or scikit-learn are rebuilt, from their data,
    by the same ``__setstate__`` that unpickling uses. The checksums are
    verified first, so a truncated or altered file is refused instead of
    half-loaded.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    estimator : object
        The estimator, on the CPU; ``sample`` and ``transform`` move it to its
        ``device`` on first use.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not an skflow archive, is truncated, was altered after
        it was written, was written in a newer format than this skflow reads,
        or names a class outside skflow and scikit-learn.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import EntropicOTGenerator, load, save
    >>> X, _ = load_wine(return_X_y=True)
    >>> save(EntropicOTGenerator(max_iter=5, random_state=0).fit(X), "model.skflow")
    >>> model = load("model.skflow")
    >>> model.sample(4).shape, model.dual_potential_.shape
    ((4, 13), (178,))
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            contents = {name: archive.read(name) for name in _MEMBERS}
            checksums = json.loads(archive.read("checksums.json"))
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ValueError(
            f"{path} is not a complete skflow file ({exc}); it may be truncated or "
            "not written by skflow.save."
        ) from exc
    for name, data in contents.items():
        if checksums.get(name) != _digest(data):
            raise ValueError(
                f"{path} was altered or corrupted after it was written ({name} does "
                "not match its checksum); refusing to load it."
            )
    try:
        manifest = json.loads(contents["manifest.json"])
        if manifest.get("format") != _FORMAT:
            raise ValueError("missing skflow format marker")
        if manifest.get("format_version", 0) > _FORMAT_VERSION:
            raise ValueError(
                f"format version {manifest['format_version']} is newer than this "
                f"skflow ({__version__}) reads; upgrade skflow"
            )
        with np.load(io.BytesIO(contents["arrays.npz"]), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        tensors = torch.load(
            io.BytesIO(contents["tensors.pt"]), map_location="cpu", weights_only=True
        )
        return _Reader(arrays, tensors).decode(manifest["estimator"])
    except Exception as exc:
        # Whatever a malformed manifest or tensor file raises (torch's restricted
        # unpickler has its own error types), the user learns the same thing.
        raise ValueError(f"cannot load {path}: {exc}") from exc
