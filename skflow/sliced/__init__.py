"""JKO gradient flows in sliced-Wasserstein space (seed 001)."""

from ._flow import SlicedWassersteinFlow

__all__ = ["SlicedWassersteinFlow"]
