"""Errors of transit monitoring (subclasses of the one tree in `keruen.errors`).

```
* KeruenError
  x NotFound
    + MovementNotFound (mrn)   no declaration with this MRN       -> 404
  x BadTransitQuery (field)    a malformed option (time, distance) -> 422
```
"""

from __future__ import annotations

from keruen.errors import InvalidQuery, NotFound


class MovementNotFound(NotFound):
    """No transit declaration carries this MRN."""

    def __init__(self, mrn: str, detail: str = "") -> None:
        self.mrn = mrn
        super().__init__(f"no transit declaration with MRN {mrn!r}{detail}")


class BadTransitQuery(InvalidQuery):
    """A query option that cannot be used, naming the option and the reason."""
