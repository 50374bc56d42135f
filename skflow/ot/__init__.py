"""Generators trained on the entropic optimal transport cost.

After Houdard, Leclaire, Papadakis and Rabin, arXiv:2102.05542.
"""

from ._generator import EntropicOTGenerator

__all__ = ["EntropicOTGenerator"]
