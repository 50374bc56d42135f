"""Warnings and errors raised by skflow."""

__all__ = [
    "DeviceWarning",
    "InsufficientMemoryError",
    "NumericalInstabilityError",
    "NumericalInstabilityWarning",
]


class DeviceWarning(UserWarning):
    """The requested torch device is unavailable; skflow fell back to the CPU."""


class InsufficientMemoryError(MemoryError):
    """A parameter or a request would need more memory than the machine has.

    Raised before anything is allocated; the message names the parameter, the
    estimated size and the remedy (a smaller value, or drawing in chunks).
    """


class NumericalInstabilityError(FloatingPointError):
    """A fit produced non-finite values (particles, losses or weights).

    The message names the iteration and the parameters to change.
    """


class NumericalInstabilityWarning(RuntimeWarning):
    """A fit met non-finite values and recovered.

    The loop went back to its last finite state and halved its learning rates;
    the fitted model is finite. The message lists the rollbacks.
    """
