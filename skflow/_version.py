"""The package version, in a module of its own so that any module can import
it without importing the package ``__init__`` (and everything it imports)."""

__version__ = "0.1.0.dev0"
