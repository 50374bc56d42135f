"""Lipschitz-regularised particle flows.

After Gu, Birmpa, Pantazis, Rey-Bellet and Katsoulakis, arXiv:2210.17230.
"""

from ._lipschitz import LipschitzParticleSampler

__all__ = ["LipschitzParticleSampler"]
