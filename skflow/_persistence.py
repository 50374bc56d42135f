"""Saving fitted estimators in a format that loads without running code.

``joblib``/``pickle`` files can execute arbitrary code when loaded, so they are for
trusted files only. :func:`save` writes a zip archive that holds no code at all:

* ``manifest.json``: the estimator as a JSON tree: parameters and fitted
  attributes as JSON values, with tagged objects for what JSON lacks (tuples,
  numpy dtypes, random states, dates and durations, nested estimators by
  class name);
* ``arrays.npz``: numeric numpy arrays, read back with ``allow_pickle=False``;
* ``tensors.pt``: torch tensors, read back with ``torch.load(weights_only=True)``;
* ``checksums.json``: SHA-256 of the three members, so a truncated or corrupted
  file is refused with a clear error instead of half-loading;
* ``signature.json``, only when ``save`` was given a ``key``: an HMAC-SHA256 of
  the members' digests under that key.

:func:`load` rebuilds only the estimator classes of ``skflow`` and
``scikit-learn`` (estimators and transformers), from their data, by the same
``__setstate__`` that unpickling uses: nothing in the file is ever executed, and
no module named in the file is imported: class names are looked up in a
registry of the classes these two packages define. Before anything is read, the
archive's member names (no duplicates, nothing but the members above) and their
declared sizes (4 GiB each, 8 GiB in all) are checked, and each member is read
no further than its declared size.

The checksums sit in the archive they describe, so they catch corruption, not
tampering: whoever edits a file can recompute them. A file saved and loaded with
the same ``key`` is refused when anyone without the key has changed it.

The JSON tree format is written here by hand: neither scikit-learn nor joblib
offers a pickle-free format for estimator state (``skops`` does, for
scikit-learn only, but not for torch tensors).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import io
import json
import os
import pickle
import re
import sys
import zipfile
import zlib
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
_SIGNATURE = "signature.json"
# Classes are rebuilt only from these packages' modules.
_TRUSTED_PACKAGES = ("skflow", "sklearn")
# Largest uncompressed size of one member (of the file, and of the zip
# archives that arrays.npz and tensors.pt are themselves): a member declaring
# more is refused before anything is allocated, so that a small file (a "zip
# bomb") cannot exhaust memory. save refuses to write what load would refuse.
_MAX_MEMBER_BYTES = 4 * 2**30
# Largest uncompressed size of all members together.
_MAX_TOTAL_BYTES = 8 * 2**30
# Prefixed to what is signed, so that a signature made for something else with
# the same key is never taken for one of a skflow file.
_SIGNED_CONTEXT = b"skflow-estimator signature v1\n"
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
        if isinstance(obj, (np.datetime64, np.timedelta64)):
            # Integer counts of the unit: exact, and NaT stays NaT.
            return {"__datetime64__": obj.dtype.str, "value": int(obj.view("i8"))}
        time = self._encode_pandas_time(obj)
        if time is not None:
            return time
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

    @staticmethod
    def _encode_pandas_time(obj):
        """A pandas Timestamp or Timedelta (e.g. a bound of a TabularEncoder's
        ``domains``) as its count of units, its unit and its time zone."""
        pd = sys.modules.get("pandas")
        if pd is None:
            return None
        if isinstance(obj, pd.Timestamp) and not pd.isna(obj):
            # asm8 is the UTC time of an aware Timestamp, in its unit.
            return {
                "__timestamp__": int(obj.asm8.view("i8")),
                "unit": obj.unit,
                "tz": None if obj.tz is None else str(obj.tz),
            }
        if isinstance(obj, pd.Timedelta) and not pd.isna(obj):
            return {"__timedelta__": int(obj.asm8.view("i8")), "unit": obj.unit}
        return None

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
        if "__datetime64__" in value:
            return np.array(value["value"], dtype=np.int64).view(
                np.dtype(value["__datetime64__"])
            )[()]
        if "__timestamp__" in value:
            import pandas as pd

            stamp = pd.Timestamp(np.datetime64(value["__timestamp__"], value["unit"]))
            if value["tz"] is not None:
                stamp = stamp.tz_localize("UTC").tz_convert(value["tz"])
            return stamp
        if "__timedelta__" in value:
            import pandas as pd

            return pd.Timedelta(np.timedelta64(value["__timedelta__"], value["unit"]))
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
        grouped,
        impute,
        ot,
        particles,
        pipeline,
        privacy,
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


def _size(n_bytes: int) -> str:
    """``6442450944`` -> ``"6 GiB"``, ``2048`` -> ``"2048 bytes"``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes} bytes"


def _incomplete(path, why) -> ValueError:
    return ValueError(
        f"{path} is not a complete skflow file ({why}); it may be truncated or "
        "not written by skflow.save."
    )


def _check_sizes(infos: list[zipfile.ZipInfo], where: str) -> None:
    """Refuse members whose declared uncompressed sizes exceed the limits."""
    for info in infos:
        if info.file_size > _MAX_MEMBER_BYTES:
            raise ValueError(
                f"{where} declares a member {info.filename!r} of "
                f"{_size(info.file_size)}, over the {_size(_MAX_MEMBER_BYTES)} "
                "that skflow.load reads; refusing it (skflow.save writes no part "
                "that large: this is another file, or a zip bomb)."
            )
    total = sum(info.file_size for info in infos)
    if total > _MAX_TOTAL_BYTES:
        raise ValueError(
            f"{where} declares {_size(total)} of members, over the "
            f"{_size(_MAX_TOTAL_BYTES)} that skflow.load reads; refusing it."
        )


def _check_members(infos: list[zipfile.ZipInfo], path: Path) -> None:
    """Refuse archives that skflow.save cannot have written, before reading."""
    names = [info.filename for info in infos]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        # zipfile reads the last of several members with one name, which a
        # checker reading the first would not see.
        raise ValueError(
            f"{path} holds several members named {repeated[0]!r}; skflow.save "
            "writes each once, so the file was altered: refusing to load it."
        )
    allowed = _MEMBERS + (_CHECKSUMS, _SIGNATURE)
    unexpected = [name for name in names if name not in allowed]
    if unexpected:
        raise ValueError(
            f"{path} holds a member {unexpected[0]!r} that skflow.save never "
            "writes; refusing to load it. Load only files written by skflow.save."
        )
    missing = [name for name in _MEMBERS + (_CHECKSUMS,) if name not in names]
    if missing:
        raise _incomplete(path, f"no member {missing[0]!r}")
    for info in infos:
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise ValueError(
                f"{path}: member {info.filename!r} is encrypted or compressed in a "
                "way skflow.save never writes; refusing to load it."
            )
    _check_sizes(infos, str(path))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path) -> bytes:
    """The member's bytes, reading no further than its declared size (+1)."""
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise _incomplete(path, exc) from exc
    if len(data) > info.file_size:
        raise ValueError(
            f"{path}: member {info.filename!r} holds more than the "
            f"{info.file_size} bytes its header declares; refusing to load it."
        )
    if len(data) < info.file_size:
        raise _incomplete(path, f"{info.filename!r} is shorter than declared")
    return data


def _read_archive(path: Path) -> dict[str, bytes]:
    """The members of the file at ``path``, checked before any is read."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"There is no file at {str(path)!r} to load; check the path (a "
            "model written by skflow.save(model, path))."
        ) from exc
    except IsADirectoryError as exc:
        raise IsADirectoryError(
            f"{str(path)!r} is a folder; name the file in it that skflow.save wrote."
        ) from exc
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _incomplete(path, exc) from exc
    with archive:
        infos = archive.infolist()
        _check_members(infos, path)
        return {info.filename: _read_member(archive, info, path) for info in infos}


def _check_inner_archive(data: bytes, name: str) -> None:
    """Bound the declared sizes inside arrays.npz and tensors.pt (zips too)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            _check_sizes(inner.infolist(), name)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{name} is not the zip archive skflow.save writes") from exc


def _verify_checksums(contents: dict[str, bytes], path: Path) -> None:
    try:
        checksums = json.loads(contents[_CHECKSUMS])
    except ValueError as exc:
        raise _incomplete(path, f"{_CHECKSUMS} is not JSON") from exc
    if not isinstance(checksums, dict):
        raise _incomplete(path, f"{_CHECKSUMS} is not a table of checksums")
    for name in _MEMBERS:
        if checksums.get(name) != _digest(contents[name]):
            raise ValueError(
                f"{path} was altered or corrupted after it was written ({name} does "
                "not match its checksum); refusing to load it."
            )


def _key_bytes(key) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"key must be bytes or str, got {type(key).__name__}")
    if not key:
        raise ValueError(
            "key is empty, which signs nothing; use a secret such as "
            "secrets.token_bytes(32), or key=None for no signature."
        )
    return bytes(key)


def _signature(key: bytes, contents: dict[str, bytes]) -> str:
    """HMAC-SHA256 under ``key`` of the data members' SHA-256 digests.

    The digests cover every byte that load reads (checksums.json only repeats
    them), so signing them signs the file.
    """
    digests = {name: _digest(contents[name]) for name in _MEMBERS}
    message = _SIGNED_CONTEXT + json.dumps(digests, sort_keys=True).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _verify_signature(contents: dict[str, bytes], key: bytes, path: Path) -> None:
    if _SIGNATURE not in contents:
        raise ValueError(
            f"{path} is not signed, but a key was given: it was saved without "
            "a key, or its signature was removed. Save it again with "
            "skflow.save(estimator, path, key=key) from a copy you trust, or "
            "load it without a key only if you trust where it came from."
        )
    try:
        stored = json.loads(contents[_SIGNATURE])["hmac-sha256"]
    except (ValueError, TypeError, KeyError):
        stored = ""
    expected = _signature(key, contents)
    if not (
        isinstance(stored, str)
        and hmac.compare_digest(expected.encode(), stored.encode("utf-8"))
    ):
        raise ValueError(
            f"{path} does not match its signature under this key: it was changed "
            "after it was signed, or signed with another key; refusing to load "
            "it. Ask whoever saved it for the key, or for a new copy."
        )


def _load_tensors(data: bytes) -> dict[str, torch.Tensor]:
    try:
        tensors = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message goes on to suggest allowlisting what it refused:
        # name only what that was.
        found = re.search(r"GLOBAL (\S+)", str(exc))
        named = f" ({found.group(1)})" if found else ""
        raise ValueError(
            f"tensors.pt holds objects other than tensors{named}, which skflow.save "
            "never writes and torch.load(weights_only=True) refused to build"
        ) from exc
    if not (
        isinstance(tensors, dict)
        and all(isinstance(t, torch.Tensor) for t in tensors.values())
    ):
        raise ValueError("tensors.pt holds something other than a dict of tensors")
    return tensors


def _rebuild(contents: dict[str, bytes], path: Path):
    """The estimator from the checked members; every failure a ValueError."""
    try:
        manifest = json.loads(contents["manifest.json"])
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise ValueError("missing skflow format marker")
        if manifest.get("format_version", 0) > _FORMAT_VERSION:
            raise ValueError(
                f"format version {manifest['format_version']} is newer than this "
                f"skflow ({__version__}) reads; upgrade skflow"
            )
        for name in ("arrays.npz", "tensors.pt"):
            _check_inner_archive(contents[name], name)
        with np.load(io.BytesIO(contents["arrays.npz"]), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        tensors = _load_tensors(contents["tensors.pt"])
        return _Reader(arrays, tensors).decode(manifest["estimator"])
    except Exception as exc:
        # Whatever a malformed manifest or tensor file raises (torch's restricted
        # unpickler has its own error types), the user learns the same thing.
        raise ValueError(f"cannot load {path}: {exc}") from exc


def save(estimator, path, *, key=None) -> None:
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
    key : bytes or str, default=None
        A secret to sign the file with (HMAC-SHA256), for example
        ``secrets.token_bytes(32)``; ``load(path, key=key)`` then refuses the
        file if anyone without the key has changed it. ``None`` writes no
        signature.

    Raises
    ------
    TypeError
        If the estimator holds something that cannot be stored as data (for
        example a Python function or a class from another package); use
        ``joblib.dump`` for files that only you will load. Also if ``key`` is
        neither bytes nor a string, or ``path`` neither a string nor path-like.
    FileNotFoundError
        If the folder of ``path`` does not exist (``path`` itself a folder
        raises ``IsADirectoryError``).
    ValueError
        If ``key`` is empty, or a part of the file would exceed the size that
        :func:`load` reads (4 GiB per part, 8 GiB in all).

    See Also
    --------
    load : Read the file back.

    Notes
    -----
    The archive holds a JSON manifest (parameters, fitted attributes, nested
    estimators by class name), numpy arrays (``.npz``, read without pickle),
    torch tensors (read with ``weights_only=True``), SHA-256 checksums and,
    with a ``key``, an HMAC-SHA256 of those checksums.

    The checksums are stored in the file they describe, so they catch
    corruption (a truncated download, a damaged disk), not tampering: whoever
    edits the file can recompute them. Only the signature catches tampering,
    by anyone who does not hold the key. Either way, loading runs no code from
    the file.

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
    path = _check_save_path(path)
    key = None if key is None else _key_bytes(key)
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
    _check_writable(contents)
    checksums = {name: _digest(data) for name, data in contents.items()}
    if key is not None:
        signature = _signature(key, contents)
    try:
        archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
    except OSError as exc:
        # A folder that exists but takes no files (/proc, a read-only mount).
        raise type(exc)(
            exc.errno,
            f"Cannot save to {str(path)!r}: {exc.strerror or exc}; save somewhere "
            "writable",
        ) from exc
    with archive:
        for name, data in contents.items():
            archive.writestr(name, data)
        archive.writestr(_CHECKSUMS, json.dumps(checksums))
        if key is not None:
            archive.writestr(_SIGNATURE, json.dumps({"hmac-sha256": signature}))


def _as_path(path) -> Path:
    """``path`` as a Path, or our TypeError for None, bytes, numbers..."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a str or path-like, e.g. 'model.skflow', got {path!r} "
            f"of type {type(path).__name__}."
        )
    return Path(path)


def _check_save_path(path) -> Path:
    """``path`` as a Path whose folder exists, before any work is done.

    Instead of pathlib's "expected str, bytes or os.PathLike object, not
    NoneType" and zipfile's bare "No such file or directory".
    """
    path = _as_path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"path {str(path)!r} is a folder; name the file to write in it, e.g. "
            f"{str(path / 'model.skflow')!r}."
        )
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Cannot save to {str(path)!r}: the folder {str(folder)!r} does not "
            "exist; create it first (os.makedirs(folder, exist_ok=True)) or save "
            "somewhere else."
        )
    return path


def _check_writable(contents: dict[str, bytes]) -> None:
    """Refuse to write a file that :func:`load` would refuse for its size."""
    sizes = {name: len(data) for name, data in contents.items()}
    too_large = [name for name, size in sizes.items() if size > _MAX_MEMBER_BYTES]
    if too_large or sum(sizes.values()) > _MAX_TOTAL_BYTES:
        raise ValueError(
            f"the estimator is too large for skflow.save ({sizes}; at most "
            f"{_size(_MAX_MEMBER_BYTES)} per part and {_size(_MAX_TOTAL_BYTES)} in "
            "all); use joblib.dump for files you only load yourself."
        )


def load(path, *, key=None):
    """Load an estimator written by :func:`save`, without executing code.

    Only the estimator classes of skflow and scikit-learn are rebuilt, from
    their data, by the same ``__setstate__`` that unpickling uses; a class
    name in the file is looked up among those classes, and no module it names
    is imported. The archive's member names and declared sizes are checked
    before anything is read, then the checksums (and, with a ``key``, the
    signature), so a truncated, oversized or altered file is refused instead
    of half-loaded.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    key : bytes or str, default=None
        The secret the file was saved with. With a key, a file that is not
        signed, or whose signature does not match under this key, is refused.
        ``None`` checks no signature (a signed file loads as any other).

    Returns
    -------
    estimator : object
        The estimator, on the CPU; ``sample`` and ``transform`` move it to its
        ``device`` on first use.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    TypeError
        If ``key`` is neither bytes nor a string, or ``path`` neither a
        string nor path-like.
    ValueError
        If the file is not an skflow archive, is truncated, holds members
        that :func:`save` never writes (or one twice), declares a member over
        4 GiB (or 8 GiB in all), does not match its checksums, is unsigned or
        wrongly signed when a ``key`` is given, was written in a newer format
        than this skflow reads, or names a class that is not an estimator
        class of skflow or scikit-learn.

    See Also
    --------
    save : Write the file.

    Notes
    -----
    Without a ``key``, the checksums catch corruption, not tampering: they are
    stored in the file they describe, and whoever edits the file can recompute
    them. Such a file still runs no code when loaded, but its parameters and
    fitted values are whatever the editor chose. With a ``key``, the file is
    refused if anyone who does not hold the key has changed it.

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> from skflow import EntropicOTGenerator, load, save
    >>> X, _ = load_wine(return_X_y=True)
    >>> save(EntropicOTGenerator(max_iter=5, random_state=0).fit(X), "model.skflow")
    >>> model = load("model.skflow")
    >>> model.sample(4).shape, model.dual_potential_.shape
    ((4, 13), (178,))
    >>> save(model, "signed.skflow", key=b"a secret shared with the reader")
    >>> load("signed.skflow", key=b"a secret shared with the reader").sample(2).shape
    (2, 13)
    """
    path = _as_path(path)
    key = None if key is None else _key_bytes(key)
    contents = _read_archive(path)
    _verify_checksums(contents, path)
    if key is not None:
        _verify_signature(contents, key, path)
    return _rebuild(contents, path)
