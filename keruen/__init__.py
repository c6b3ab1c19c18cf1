"""Keruen: a traceability ledger for goods entering, crossing and leaving a home country
(`KERUEN_JURISDICTION`, `keruen.jurisdiction`)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
