"""Keruen: a traceability ledger for goods entering, crossing and leaving Kazakhstan."""

__version__ = "0.1.0"
__all__ = ["__version__"]
