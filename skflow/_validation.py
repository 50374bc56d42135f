"""Validators for the counts, numbers and flags users pass to functions.

Constructor parameters are checked by scikit-learn's ``_parameter_constraints``;
this is for arguments of calls (``sample(n_samples)``, ``n_steps``, the
generators' sizes, the metrics' ``max_samples``), where sklearn's
``validate_params`` would also do but words its errors without the remedy.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np

from ._compat import InvalidParameterError
from .exceptions import InsufficientMemoryError

# Where the machine's memory cannot be read (os.sysconf is POSIX-only): a
# generous fixed cap, so that only requests no machine could meet are refused.
_FALLBACK_MEMORY = 2**40


def check_count(
    value,
    name: str,
    *,
    minimum: int = 1,
    maximum: int | None = None,
    allow_none: bool = False,
    remedy: str = "",
):
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum`` (and
    ``<= maximum`` when given).

    Python and numpy integers pass; bools, floats (even ``3.0``) and strings
    raise scikit-learn's ``InvalidParameterError``, which is both a
    ``TypeError`` and a ``ValueError`` (what sklearn raises for a parameter of
    the wrong type, so either ``except`` catches it); integers below
    ``minimum`` raise ``ValueError``. Both name ``name`` and, when given, the
    ``remedy``. With ``allow_none``, None passes through as None.
    """
    if value is None and allow_none:
        return None
    wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if allow_none:
        wanted += " or None"
    tail = f"; {remedy}" if remedy else "."
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise InvalidParameterError(
            f"{name} must be {wanted}, got {value!r} of type "
            f"{type(value).__name__}{tail}"
        )
    if value < minimum:
        raise ValueError(f"{name} must be {wanted}, got {value}{tail}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}{tail}")
    return int(value)


def check_real(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_none: bool = False,
    remedy: str = "",
):
    """Return ``value`` as a ``float`` if it is a finite real number in range.

    Python and numpy integers and floats pass; bools, strings, complex numbers
    and arrays raise scikit-learn's ``InvalidParameterError`` (both a
    ``TypeError`` and a ``ValueError``); NaN, infinities and numbers outside
    ``[low, high]`` (open at an end whose ``*_inclusive`` is False) raise
    ``ValueError``. Both name ``name`` and, when given, the ``remedy``. With
    ``allow_none``, None passes through as None.
    """
    if value is None and allow_none:
        return None
    wanted = "a finite real number"
    if low is not None and high is not None:
        left, right = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        wanted += f" in {left}{low:g}, {high:g}{right}"
    elif low is not None:
        wanted += f" {'>=' if low_inclusive else '>'} {low:g}"
    elif high is not None:
        wanted += f" {'<=' if high_inclusive else '<'} {high:g}"
    if allow_none:
        wanted += " or None"
    tail = f"; {remedy}" if remedy else "."
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise InvalidParameterError(
            f"{name} must be {wanted}, got {value!r} of type "
            f"{type(value).__name__}{tail}"
        )
    number = float(value)
    in_range = np.isfinite(number)
    if in_range and low is not None:
        in_range = number >= low if low_inclusive else number > low
    if in_range and high is not None:
        in_range = number <= high if high_inclusive else number < high
    if not in_range:
        raise ValueError(f"{name} must be {wanted}, got {value!r}{tail}")
    return number


def check_bool(value, name: str):
    """Return ``value`` as a ``bool`` if it is a Python or numpy bool.

    Anything else (``0``, ``1``, ``"yes"``, None) raises scikit-learn's
    ``InvalidParameterError``, both a ``TypeError`` and a ``ValueError``.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(
            f"{name} must be True or False, got {value!r} of type "
            f"{type(value).__name__}."
        )
    return bool(value)


def memory_limit(device=None) -> int:
    """Bytes of memory a request may use: the device's, or the physical RAM.

    For a CUDA device, its total memory; otherwise the machine's physical
    memory from ``os.sysconf`` (psutil is not a dependency), or 1 TiB where
    that cannot be read. A bound on what is possible at all, not a promise that
    this much is free: :func:`check_memory` refuses only what cannot fit.
    """
    if device is not None and getattr(device, "type", str(device)) == "cuda":
        import torch

        try:
            return int(torch.cuda.get_device_properties(device).total_memory)
        except (RuntimeError, AssertionError):
            return _FALLBACK_MEMORY
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return _FALLBACK_MEMORY
    return int(memory) if memory > 0 else _FALLBACK_MEMORY


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in binary units: ``'3.7 TiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.3g} {unit}" if unit != "B" else f"{int(n_bytes)} B"
        n_bytes /= 1024
    return f"{n_bytes:.3g} EiB"  # pragma: no cover


def network_bytes(widths, itemsize: int) -> int:
    """Bytes of a dense network's weights and biases, ``sum (in + 1) * out``."""
    widths = [int(w) for w in widths]
    return itemsize * sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))


def training_bytes(widths, rows: int, itemsize: int) -> tuple[int, int]:
    """Bytes to train a dense network of layer ``widths`` on batches of ``rows``.

    Returns ``(weights, batch)``: the weights with their gradients and Adam's
    two moments (4 copies of :func:`network_bytes`), and a batch's
    activations, pre-activations and their gradients (3 per unit per row).
    """
    widths = [int(w) for w in widths]
    return 4 * network_bytes(widths, itemsize), 3 * int(rows) * sum(widths) * itemsize


def trace_need(max_iter, values_per_iteration: int, itemsize: int) -> dict:
    """The memory need of a loop's traces, as one entry for :func:`check_memory`.

    Every core preallocates ``max_iter`` rows of traces on the device (see
    :class:`skflow._loop.TrainingStep`) and ``history_`` copies the completed
    rows to the host in float64, so a huge ``max_iter`` is refused here,
    before the allocator fails, with the remedy of a smaller ``max_iter``.
    """
    per_iteration = int(values_per_iteration) * (int(itemsize) + 8)
    return {
        f"the traces of max_iter={max_iter} iterations": (
            int(max_iter) * per_iteration,
            "lower max_iter (the loop also stops early on its tolerance).",
        )
    }


def check_memory(owner: str, needs: dict, *, device=None, limit=None) -> None:
    """Raise :class:`~skflow.exceptions.InsufficientMemoryError` if ``needs``
    cannot fit in memory.

    ``needs`` maps what is sized (a parameter, ``"n_samples"``) to a pair
    ``(bytes, remedy)``; the estimates are Python ints, so they never
    overflow. The message names the largest need, the total and the limit of
    :func:`memory_limit` (or ``limit``), and that need's remedy.
    """
    total = sum(int(n_bytes) for n_bytes, _ in needs.values())
    limit = memory_limit(device) if limit is None else int(limit)
    if total <= limit:
        return
    name, (biggest, remedy) = max(needs.items(), key=lambda item: item[1][0])
    on_cpu = device is None or getattr(device, "type", str(device)) == "cpu"
    where = "this machine" if on_cpu else f"the device {device}"
    raise InsufficientMemoryError(
        f"{owner} would need about {format_bytes(total)} of memory "
        f"({format_bytes(biggest)} of it for {name}), more than the "
        f"{format_bytes(limit)} of {where}; {remedy}"
    )
