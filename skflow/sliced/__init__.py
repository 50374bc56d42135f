"""JKO gradient flows in sliced-Wasserstein space.

After Bonet, Courty, Septier and Drumetz, arXiv:2110.10972.
"""

from ._flow import SlicedWassersteinFlow

__all__ = ["SlicedWassersteinFlow"]
