"""Warnings and errors raised by skflow."""

__all__ = ["DeviceWarning", "NumericalInstabilityError"]


class DeviceWarning(UserWarning):
    """The requested torch device is unavailable; skflow fell back to the CPU."""


class NumericalInstabilityError(FloatingPointError):
    """A fit produced non-finite values (particles, losses or weights).

    The message names the iteration and the parameters to change.
    """
