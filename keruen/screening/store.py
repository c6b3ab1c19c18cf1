"""Lists in the Keruen database: save a loaded list version, build a `Screener` from the current
versions, read screening results. The storage edge of screening (SQLAlchemy Core, portable)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.errors import ConfigError, NotFound
from keruen.screening import tables as t
from keruen.screening.loaders import Loaded, chpl
from keruen.screening.model import Entry, GoodsRule, Identifier
from keruen.screening.screener import Screener, parse_thresholds
from keruen.settings import get_settings
from keruen.store import db


class UnknownList(NotFound):
    """A list name that was never loaded."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no list named {name!r} is loaded (keruen lists show)")


@dataclass(frozen=True)
class ListInfo:
    name: str
    version: str
    kind: str
    source: str
    size: int
    loaded_us: int

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "source": self.source,
            "size": self.size,
            "loaded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.loaded_us / 1e6)),
        }


def now_us() -> int:
    return time.time_ns() // 1000


def save(conn: Connection, loaded: Loaded) -> bool:
    """Store a list version and make it current; False when that version was current already."""
    current = current_versions(conn).get(loaded.name)
    if current and current.version == loaded.version:
        return False
    e = t.screening_entries  # the current version's entries stay: the next screen diffs them
    kept = e.c.version != current.version if current else sa.true()
    conn.execute(e.delete().where(e.c.list == loaded.name, kept))
    conn.execute(t.screening_rules.delete().where(t.screening_rules.c.list == loaded.name))
    for rows in db.chunks(_entry_rows(loaded.entries, loaded.version), 2000):
        conn.execute(t.screening_entries.insert(), list(rows))
    for rows in db.chunks(_rule_rows(loaded.rules), 2000):
        conn.execute(t.screening_rules.insert(), list(rows))
    db.upsert(
        conn,
        t.screening_lists,
        [
            {
                "name": loaded.name,
                "version": loaded.version,
                "kind": loaded.kind,
                "source": loaded.source[:2000],
                "size": loaded.size,
                "loaded_us": now_us(),
            }
        ],
        ["name", "version"],
    )
    return True


def _entry_rows(entries: Sequence[Entry], version: str) -> list[dict[str, Any]]:
    unique = {e.id: e for e in entries}  # a list names an entity once; the last row wins
    return [
        {
            "list": e.list,
            "version": version,
            "entry_id": e.id,
            "schema": e.schema,
            "names": json.dumps(e.names, ensure_ascii=False),
            "ids": json.dumps([[i.scheme, i.value, i.country] for i in e.ids]),
            "countries": json.dumps(e.countries),
            "programs": json.dumps(e.programs),
            "remarks": e.remarks,
            "details": json.dumps(e.details(), ensure_ascii=False) if e.details() else None,
        }
        for e in unique.values()
    ]


def _rule_rows(rules: Sequence[GoodsRule]) -> list[dict[str, Any]]:
    return [
        {
            "list": r.list,
            "version": r.version,
            "n": n,
            "hs_prefix": r.hs_prefix,
            "destinations": ";".join(sorted(r.destinations)),
            "action": r.action,
            "tier": r.tier,
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "source": r.source,
            "note": r.note,
        }
        for n, r in enumerate(rules)
    ]


def current_versions(conn: Connection) -> dict[str, ListInfo]:
    """Every list's current version: the one loaded last."""
    rows = conn.execute(sa.select(t.screening_lists).order_by(t.screening_lists.c.loaded_us))
    return {
        r.name: ListInfo(r.name, r.version, r.kind, r.source, r.size, r.loaded_us) for r in rows
    }


def party_lists_warning(conn: Connection) -> str | None:
    """What a user must be told before trusting detection's silence on parties, or None."""
    party = [i for i in current_versions(conn).values() if i.kind == "parties"]
    if not party:
        return (
            "no party list is loaded: no sanctioned-party check ran "
            "(keruen lists load ofac sdn.csv, then keruen screen ledger)"
        )
    if all(i.source.startswith("OFAC SDN extract") for i in party):
        n = sum(i.size for i in party)
        return (
            f"only an OFAC extract ({n} entries) is loaded, not a full list: "
            "load one with `keruen lists load ofac sdn.csv`"
        )
    return None


def history(conn: Connection) -> list[ListInfo]:
    rows = conn.execute(
        sa.select(t.screening_lists).order_by(
            t.screening_lists.c.name, t.screening_lists.c.loaded_us
        )
    )
    return [ListInfo(r.name, r.version, r.kind, r.source, r.size, r.loaded_us) for r in rows]


@dataclass(frozen=True)
class Delta:
    """What changed in a list from the version screened before to the current one."""

    old: str
    changed: frozenset[str]  # entry ids added, changed or removed
    entries: tuple[Entry, ...]  # the current version's added or changed entries


def deltas(conn: Connection, current: dict[str, str]) -> dict[str, Delta]:
    """Per party list whose previous version is still stored: the entries that changed."""
    e = t.screening_entries
    pairs = conn.execute(sa.select(e.c.list, e.c.version).distinct()).all()
    out: dict[str, Delta] = {}
    for name in {r.list for r in pairs if current.get(r.list) not in (None, r.version)}:
        old = next(r.version for r in pairs if r.list == name and r.version != current[name])
        before = {x.id: x.digest for x in _entries_of(conn, name, old)}
        now = {x.id: x for x in _entries_of(conn, name, current[name])}
        moved = {i for i, x in now.items() if before.get(i) != x.digest} | (
            before.keys() - now.keys()
        )
        out[name] = Delta(old, frozenset(moved), tuple(now[i] for i in moved if i in now))
    return out


def _entries_of(conn: Connection, name: str, version: str) -> list[Entry]:
    e = t.screening_entries
    return [
        _entry(r)
        for r in conn.execute(sa.select(e).where(e.c.list == name, e.c.version == version))
    ]


def ensure_builtin(conn: Connection) -> None:
    """The Common High Priority List ships with Keruen: load it on first use."""
    if "chpl" not in current_versions(conn):
        save(conn, chpl())


def load_screener(conn: Connection, lists: Iterable[str] | None = None) -> Screener:
    """A screener over the current version of every loaded list (or of the lists named)."""
    current = current_versions(conn)
    wanted = set(current) if lists is None else set(lists)
    for name in wanted - set(current):
        raise UnknownList(name)
    versions = {n: current[n].version for n in wanted}
    screener = Screener(rules=_rules(conn, versions))
    by_list: dict[str, list[Entry]] = defaultdict(list)
    for row in conn.execute(
        sa.select(t.screening_entries).where(t.screening_entries.c.list.in_(list(versions)))
    ):
        if versions.get(row.list) == row.version:
            by_list[row.list].append(_entry(row))
    for name, entries in by_list.items():
        screener.add_entries(entries, versions[name])
    screener.versions.update(versions)
    try:
        screener.thresholds = parse_thresholds(get_settings().screening_thresholds)
    except ValueError as e:
        raise ConfigError(f"KERUEN_SCREENING_THRESHOLDS: {e}") from None
    return screener


def _rules(conn: Connection, versions: dict[str, str]) -> list[GoodsRule]:
    rows = conn.execute(
        sa.select(t.screening_rules)
        .where(t.screening_rules.c.list.in_(list(versions)))
        .order_by(t.screening_rules.c.n)
    )
    return [
        GoodsRule(
            r.list,
            r.version,
            r.hs_prefix,
            frozenset(r.destinations.split(";")),
            r.action,
            r.tier,
            r.valid_from,
            r.valid_to,
            r.source,
            r.note,
        )
        for r in rows
        if versions.get(r.list) == r.version
    ]


def _entry(row: Any) -> Entry:
    details = json.loads(row.details) if row.details else {}
    return Entry(
        list=row.list,
        id=row.entry_id,
        schema=row.schema,
        names=tuple(json.loads(row.names)),
        ids=tuple(Identifier(*i) for i in json.loads(row.ids)),
        countries=tuple(json.loads(row.countries)),
        programs=tuple(json.loads(row.programs)),
        remarks=row.remarks,
        weak_names=tuple(details.get("weak_names", ())),
        birth_dates=tuple(details.get("birth_dates", ())),
    )


def results_for(
    conn: Connection, event_ids: Iterable[str], include_suppressed: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Screening hits of these events against the current version of each list, by event id.

    Each hit: list, version, subject (goods[i], buyer, carrier, consignee, holder), kind
    (goods|party), entry_id (list entry, or the rule's HS prefix), query, matched, score,
    action (block|licence|flag for goods, match for parties; "cleared" for a party hit an
    officer decided a false positive, kept but returned only with `include_suppressed`), tier,
    explanation (dict). Events never screened, or clean, are absent (see `screened`).
    """
    current = {n: i.version for n, i in current_versions(conn).items()}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    h = t.screening_hits
    for ids in db.chunks(list(event_ids)):
        for r in conn.execute(sa.select(h).where(h.c.event_id.in_(ids))):
            if current.get(r.list) == r.version and (include_suppressed or r.action != "cleared"):
                out[r.event_id].append(_hit_dict(r))
    return dict(out)


def _hit_dict(r: Any) -> dict[str, Any]:
    return {
        "list": r.list,
        "version": r.version,
        "subject": r.subject,
        "kind": r.kind,
        "entry_id": r.entry_id,
        "query": r.query,
        "matched": r.matched,
        "score": r.score,
        "action": r.action,
        "tier": r.tier,
        "explanation": json.loads(r.explanation),
    }


def screened(conn: Connection, event_ids: Iterable[str]) -> set[str]:
    """Events checked against the current version of every loaded list."""
    current = {n: i.version for n, i in current_versions(conn).items()}
    done: dict[str, set[str]] = defaultdict(set)
    c = t.screening_checks
    for ids in db.chunks(list(event_ids)):
        for r in conn.execute(
            sa.select(c.c.event_id, c.c.list, c.c.version).where(c.c.event_id.in_(ids))
        ):
            if current.get(r.list) == r.version:
                done[r.event_id].add(r.list)
    return {e for e, lists in done.items() if lists >= set(current)}
