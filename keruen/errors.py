"""The one exception tree of Keruen; HTTP statuses are hints read by the API's handler map.

```
* KeruenError
  x RejectedEvent (field, reason)            -> 422
    + InvalidEvent      malformed or invalid content
    + UnknownBatch      the batch does not exist (yet)
    + BatchExists       a batch number is never reused
    + InsufficientStock a holder gives more than it holds
    + IdConflict        same event id, other content      -> 409
    + CancelRefused     the effect cannot be reversed
  x NotFound                                  -> 404
  x InvalidQuery      a read's filter (field, reason)     -> 422
  x ConfigError       unsafe or invalid settings          -> 500
  x IntegrityFailure  the hash chain does not verify      -> 500
  x AnalyticsError    bad analytics input (file, option)   -> 422
    + MissingRate       no currency rate for a date
```
"""

from __future__ import annotations


class KeruenError(Exception):
    """Root of every error Keruen raises on purpose."""

    status = 500


class RejectedEvent(KeruenError):
    """An event the ledger refuses; `field` names where, `reason` says why."""

    status = 422

    def __init__(self, field: str, reason: str, event_id: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.event_id = event_id
        super().__init__(f"{field}: {reason}" if field else reason)


class InvalidEvent(RejectedEvent):
    """Malformed JSON, a missing or wrongly typed field, or a value outside its code list."""


class UnknownBatch(RejectedEvent):
    """The event moves a batch the ledger has never seen."""


class BatchExists(RejectedEvent):
    """A new batch reuses a registration number."""


class InsufficientStock(RejectedEvent):
    """A holder would give more than its balance of the batch."""


class IdConflict(RejectedEvent):
    """The event id was used before for different content."""

    status = 409


class CancelRefused(RejectedEvent):
    """The target of a cancel cannot be reversed (unknown, already cancelled, stock moved on)."""


class NotFound(KeruenError):
    """A batch, event or holder that a query names does not exist."""

    status = 404


class ConfigError(KeruenError):
    """Settings that are invalid or unsafe."""


class IntegrityFailure(KeruenError):
    """The stored hash chain no longer matches the stored events."""


class InvalidQuery(KeruenError):
    """A read names an unknown filter value or an impossible range; `field` says which."""

    status = 422

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class AnalyticsError(KeruenError):
    """An analytics input that cannot be used: a malformed file, an unknown grouping key."""

    status = 422


class MissingRate(AnalyticsError):
    """A value in a currency the loaded rates do not cover on the event's date."""

    def __init__(self, currency: str, day: str) -> None:
        self.currency = currency
        self.day = day
        super().__init__(f"no {currency} rate for {day} in the loaded rates file")


class StorageFailure(KeruenError):
    """The database cannot be used: unreachable, missing, or not a supported kind."""

    status = 503

    def __init__(self, database: str, cause: str) -> None:
        self.database = database
        self.cause = cause
        super().__init__(f"database {database}: {cause}")
