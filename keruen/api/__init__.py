"""HTTP API (SPEC C7, C9)."""
