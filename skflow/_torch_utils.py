"""Device, dtype and random-number plumbing between numpy and torch.

Everything that decides *where* and *in what precision* torch runs lives here, so
that estimators resolve these once in ``fit`` and the functional cores only follow
the tensors they are given.
"""

from __future__ import annotations

import importlib
import numbers
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch

from ._warnings import warn
from .exceptions import DeviceWarning

_DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Seeds handed to torch.Generator.manual_seed are drawn below this bound.
_SEED_BOUND = np.iinfo(np.int32).max

# What torch.optim imports lazily when a process builds its first optimiser
# (torch._compile's dynamo guard on Optimizer.add_param_group): hundreds of
# modules in 1.5 to 2.5 s, some registering operators with torch's C++
# dispatcher. Kept out of ``import skflow``, whose users may never fit.
_OPTIMIZER_IMPORT = "torch._dynamo"
_optimizer_import_done = False


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn a user's ``device`` parameter into an available ``torch.device``.

    ``"auto"`` picks CUDA when available, else the CPU. A device that exists on
    paper but not on this machine (``"cuda"`` without a GPU, ``"cuda:3"`` on a
    one-GPU host, ``"mps"`` off a Mac) warns with :class:`DeviceWarning` and falls
    back to the CPU, so a model fitted on a GPU server still runs on a laptop.

    Raises
    ------
    ValueError
        If ``device`` is not a device string torch understands.
    """
    if isinstance(device, str) and device == "auto":
        return (
            torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
        )
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', "
            "'cuda' or 'cuda:<index>'."
        ) from exc
    if resolved.type == "cpu":
        return resolved
    if resolved.type == "cuda":
        n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = 0 if resolved.index is None else resolved.index
        if index < n_gpus:
            return resolved
        reason = f"only {n_gpus} CUDA device(s) are available"
    elif resolved.type == "mps":
        backend = getattr(torch.backends, "mps", None)
        if backend is not None and backend.is_available():
            return resolved
        reason = "the MPS backend is not available"
    else:
        reason = f"device type {resolved.type!r} is not supported by skflow"
    warn(
        f"device={device!r} requested but {reason}; falling back to 'cpu'. "
        "Pass device='cpu' (or 'auto') to silence this warning.",
        DeviceWarning,
    )
    return torch.device("cpu")


def resolve_dtype(dtype: str) -> torch.dtype:
    """Map ``"float32"``/``"float64"`` to the torch dtype."""
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise ValueError(
            f"dtype={dtype!r} is not supported; use 'float32' or 'float64'."
        ) from None


def check_random_state(seed) -> np.random.RandomState:
    """Like :func:`sklearn.utils.check_random_state`, but ``None`` gives a fresh
    ``RandomState`` seeded from the operating system instead of numpy's global
    one: skflow never reads or advances the global random state.
    """
    if seed is None:
        return np.random.RandomState()
    if isinstance(seed, np.random.RandomState):
        return seed
    if (
        isinstance(seed, (bool, np.bool_))
        or not isinstance(seed, numbers.Integral)
        or not 0 <= seed <= 2**32 - 1
    ):
        # Not numpy's "Seed must be between 0 and 2**32 - 1", which names
        # neither the argument nor the other choices.
        raise ValueError(
            "random_state must be an integer between 0 and 2**32 - 1, a "
            f"RandomState instance or None, got {seed!r}."
        )
    return np.random.RandomState(int(seed))


def draw_seed(rng: np.random.RandomState) -> int:
    """Draw a seed for a torch stream from a numpy ``RandomState``."""
    return int(rng.randint(_SEED_BOUND))


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``.

    Generators are made on demand and never stored on an estimator: they do not
    pickle across devices.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


@contextmanager
def _ctrl_c_held():
    """Hold Ctrl-C (SIGINT) back for the block, then deliver it.

    Works in the main thread with a Python-level SIGINT handler (the default
    one raises ``KeyboardInterrupt``), the only place Ctrl-C arrives as an
    exception; elsewhere the block runs as it is. A block that raises drops the
    held signal: its own error comes first.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(
        previous
    ):
        yield
        return
    held = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        previous(signal.SIGINT, held[0])


def import_optimizer_modules() -> None:
    """Finish torch's lazy import behind the first optimiser, Ctrl-C held back.

    An import interrupted halfway cannot be undone: its modules have registered
    operators with torch's C++ dispatcher, and importing them again fails, so a
    Ctrl-C in the first seconds of a process would break every later fit.
    Ctrl-C during the import therefore waits for it to finish (at most a few
    seconds, once per process) and is then raised as usual.

    Raises
    ------
    RuntimeError
        If the import fails: torch was left half-imported by an earlier import
        interrupted outside skflow.
    """
    global _optimizer_import_done
    if _optimizer_import_done:
        return
    with _ctrl_c_held():
        try:
            importlib.import_module(_OPTIMIZER_IMPORT)
        except Exception as exc:
            raise RuntimeError(
                f"torch could not import {_OPTIMIZER_IMPORT}, which torch.optim "
                f"needs to build an optimiser ({type(exc).__name__}: {exc}). An "
                "import interrupted earlier in this process (Ctrl-C while torch "
                "first built an optimiser or compiled) leaves torch half-imported; "
                "restart the Python process."
            ) from exc
    _optimizer_import_done = True


def adam(parameters, **options) -> torch.optim.Adam:
    """``torch.optim.Adam(parameters, **options)``, built after
    :func:`import_optimizer_modules` so that Ctrl-C cannot break torch."""
    import_optimizer_modules()
    return torch.optim.Adam(parameters, **options)


class RandomStreams(NamedTuple):
    """The independent random streams of one fit.

    Each purpose draws from its own ``torch.Generator``, so that changing how
    much one purpose draws changes nothing else: more particles (a bigger
    start draw) leave the critic's initial weights alone, a larger
    ``batch_size`` leaves the projection directions alone, and so on.

    Attributes
    ----------
    init : torch.Generator
        Initialisation: network weights first, then starting points
        (particles, the start draw of a particle model).
    batches : torch.Generator
        Which rows each minibatch holds, epoch orders, and the subsample of
        the memorisation reference.
    noise : torch.Generator
        The Monte Carlo draws of training steps: latent codes, projection
        directions, start points of the flows, random times.
    """

    init: torch.Generator
    batches: torch.Generator
    noise: torch.Generator


def make_streams(seed: int, device: torch.device) -> RandomStreams:
    """:class:`RandomStreams` on ``device``, derived from one ``seed``.

    The three seeds are spawned from ``numpy.random.SeedSequence(seed)``,
    which makes them statistically independent streams rather than nearby
    integer seeds.
    """
    children = np.random.SeedSequence(seed).spawn(len(RandomStreams._fields))
    return RandomStreams(
        *(
            make_generator(int(child.generate_state(1, np.uint64)[0]), device)
            for child in children
        )
    )


def to_tensor(
    array: np.ndarray, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """Copy a numpy array to a contiguous tensor on ``device`` with ``dtype``."""
    return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Bring a tensor back to the host as a float64 numpy array."""
    return tensor.detach().to(device="cpu", dtype=torch.float64).numpy()


def iter_chunks(n_rows: int, chunk_size: int) -> Iterator[slice]:
    """Slices covering ``range(n_rows)`` in pieces of at most ``chunk_size``."""
    for start in range(0, n_rows, chunk_size):
        yield slice(start, min(start + chunk_size, n_rows))


def minibatch(
    rows: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    *,
    whole_if_smaller: bool = True,
) -> torch.Tensor:
    """``batch_size`` rows drawn uniformly with replacement from ``rows``.

    With ``whole_if_smaller`` (the default), ``rows`` itself when it holds no
    more than ``batch_size`` rows: the whole sample is then the better estimate
    and costs no more. Without it, always a draw (the proximal flow's critic
    sees a fresh resample of the data each step, as its training assumes).
    """
    if whole_if_smaller and rows.shape[0] <= batch_size:
        return rows
    index = torch.randint(
        rows.shape[0], (batch_size,), generator=generator, device=rows.device
    )
    return rows[index]


def map_tensors(obj, function):
    """Apply ``function`` to every tensor in a nest of dicts, lists and tuples
    (named tuples included); other leaves are kept as they are."""
    if isinstance(obj, torch.Tensor):
        return function(obj)
    if isinstance(obj, dict):
        return {key: map_tensors(value, function) for key, value in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(map_tensors(value, function) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_tensors(value, function) for value in obj)
    return obj


def tensors_to(obj, device: torch.device | str):
    """Move every tensor in a nest of dicts, lists and tuples to ``device``."""
    return map_tensors(obj, lambda tensor: tensor.detach().to(device))
