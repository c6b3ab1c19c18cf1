"""`python -m keruen` is the `keruen` command."""

from keruen.cli import main

main()
