"""Wasserstein-1 + Wasserstein-2 proximal mean-field-game flows (seed 002)."""

from ._flow import ProximalMFGFlow

__all__ = ["ProximalMFGFlow"]
