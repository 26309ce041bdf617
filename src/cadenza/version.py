"""The package version, in a module of its own so that any module can read it without
importing the package (and everything ``cadenza/__init__`` imports)."""

__version__ = "0.1.0"
