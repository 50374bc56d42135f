"""Wasserstein-1 + Wasserstein-2 proximal mean-field-game flows.

After Gu, Katsoulakis, Rey-Bellet and Zhang, arXiv:2407.11901.
"""

from ._flow import ProximalMFGFlow

__all__ = ["ProximalMFGFlow"]
