"""Generators trained on the entropic optimal transport cost (seed 003)."""

from ._generator import EntropicOTGenerator

__all__ = ["EntropicOTGenerator"]
