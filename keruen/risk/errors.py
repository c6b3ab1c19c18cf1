"""Errors of the risk area, on Keruen's one exception tree.

```
* KeruenError
  x NotFound
    + CaseNotFound      no case with that number                -> 404
    + AlertNotFound     no alert with that number               -> 404
  x CaseError           an action the case's state forbids      -> 409
  x BadInput            a user's argument or file is wrong      -> 422
```
"""

from __future__ import annotations

from keruen.errors import InvalidQuery, KeruenError, NotFound


class CaseNotFound(NotFound):
    """A case number that does not exist."""

    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id} does not exist")


class AlertNotFound(NotFound):
    """An alert number that does not exist."""

    def __init__(self, alert_ids: list[int]) -> None:
        self.alert_ids = alert_ids
        super().__init__(f"alert(s) {', '.join(map(str, alert_ids))} do not exist")


class CaseError(KeruenError):
    """The action is not allowed in the case's current state (e.g. a decided case)."""

    status = 409


class BadInput(InvalidQuery):
    """A user's argument, configuration or file is invalid; `field` names which."""
