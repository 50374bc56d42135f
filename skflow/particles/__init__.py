"""Lipschitz-regularised particle flows (seed 000)."""

from ._lipschitz import LipschitzParticleSampler

__all__ = ["LipschitzParticleSampler"]
