"""`keruen demo` (tooling, not the product): `job` runs the main job end to end on a simulated
economy and prints its summary; `dashboard` adds the demo's dashboard users.

Nothing in the domain packages imports this package (tests/test_architecture.py says so)."""
