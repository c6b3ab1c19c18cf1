"""The synthetic Kazakhstan economy (SPEC C8)."""
