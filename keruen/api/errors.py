"""Errors of the API area, on Keruen's one exception tree; `status` is the HTTP hint.

```
* KeruenError
  x ApiError (field, reason)
    + Unauthorized          no or bad credentials              -> 401
    + Forbidden             authenticated, but not allowed     -> 403
    + Conflict              a user or key name already taken   -> 409
    + PayloadTooLarge       body or batch over the limit       -> 413
    + UnsupportedMediaType  not JSON, JSON Lines or a form     -> 415
    + BadRequest            a malformed request (not an event) -> 400
    + StorageUnavailable    the database cannot be reached     -> 503
  x NotFound (keruen.errors)                                   -> 404
```
"""

from __future__ import annotations

from keruen.errors import KeruenError


class ApiError(KeruenError):
    """A refused request; `field` names the part of the request at fault ('' for the whole)."""

    status = 400
    audited = False  # True when the raiser already wrote the refusal to the audit log

    def __init__(
        self, reason: str, field: str = "", errors: list[dict[str, str]] | None = None
    ) -> None:
        self.field = field
        self.reason = reason
        self.errors = errors  # every {field, reason} when there are several
        super().__init__(f"{field}: {reason}" if field else reason)


class BadRequest(ApiError):
    """The request itself is malformed (not an event content problem)."""


class Unauthorized(ApiError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    status = 401


class Forbidden(ApiError):
    """The caller is known but its role or tax id does not allow this."""

    status = 403


class Conflict(ApiError):
    """A name that must be unique is taken."""

    status = 409


class PayloadTooLarge(ApiError):
    """The body, or the number of events in a batch, is over the configured limit."""

    status = 413


class UnsupportedMediaType(ApiError):
    """A body in a content type the endpoint does not read."""

    status = 415


class StorageUnavailable(ApiError):
    """The database failed; nothing of the request was written."""

    status = 503
