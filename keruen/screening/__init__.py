"""Goods and party screening (SPEC C3, C4)."""
