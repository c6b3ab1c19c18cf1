"""Transit monitoring (SPEC C2)."""
