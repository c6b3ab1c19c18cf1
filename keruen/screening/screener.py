"""The screener: goods rules and party lists in memory, asked by the ledger, the API and pre-checks.

Built from lists loaded from the database (`keruen.screening.store.load_screener`) or from
entries and rules in memory (tests, benchmarks). Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from keruen.screening.features import Algorithm, Pair, Side, get_algorithm
from keruen.screening.index import NameIndex
from keruen.screening.model import (
    MIN_ID_LENGTH,
    Entry,
    GoodsHit,
    GoodsRule,
    PartyHit,
    normalise_id,
)
from keruen.screening.text import analyse, is_patronymic

PREFILTER = 0.45  # letters shared below this never reach the threshold (0.4 x 1 + 0.6 x 0.55)
SHORTLIST = 8
BEHIND = 0.2  # shortlisted names this far behind the best in letters are not scored. At 0.25:
# against 300,000 names, 17 % fewer names scored than at 1.0 (every one); of the hits of 5,433
# queries (renderings of listed names, plausible names on no list, yente's UN people and people
# on no list) one in 1,449 lost. At 0.2 (issue 18): against 1,000,000 names a third fewer than
# at 0.25 (2.0 against 3.1 a query) and the same recall as at 1.0 on three seeds of renderings
# (3,750 queries); against 300,000 names, of the 1,841 hits of 3,783 queries 11 lost (5 at
# 0.25), each a second hit on another entry than the query's best (MUAMMAR QADHAFI at 0.81 for
# HANNIBAL MUAMMAR QADHAFI, BASOV Oleksandr at 0.80 for Oleksandr Ianoukovytch)


Scored = tuple[float, int, list[float] | None]  # score, row, feature values (None: not all run)
_NOTHING: Scored = (-1.0, 0, None)


@dataclass(frozen=True, slots=True)
class _Owner:
    entry: Entry
    version: str
    side: Side  # the entry's countries, ids and kind; the key is filled in per name
    rows: range  # the entry's names in the index


class GoodsRules:
    """Goods rules grouped by the first two digits of their HS prefix, for a quick look-up."""

    def __init__(self, rules: Iterable[GoodsRule]) -> None:
        self.by_chapter: dict[str, list[GoodsRule]] = defaultdict(list)
        for rule in rules:
            self.by_chapter[rule.hs_prefix[:2]].append(rule)

    def __len__(self) -> int:
        return sum(map(len, self.by_chapter.values()))

    def screen(self, hs: str, destination: str, on: date) -> list[GoodsHit]:
        """The rules that fire for goods `hs` bound for `destination` on `on`, strictest first."""
        hits = [
            GoodsHit(r.list, r.version, r.hs_prefix, r.action, r.tier, r.source, r.note)
            for r in self.by_chapter.get(hs[:2], ())
            if r.applies(hs, destination.upper(), on)
        ]
        order = {"block": 0, "licence": 1, "flag": 2}
        return sorted(hits, key=lambda h: (order[h.action], h.list, h.hs_prefix))


class Screener:
    """Every loaded list, indexed: `screen_goods` and `screen_party` answer from memory."""

    def __init__(
        self,
        rules: Iterable[GoodsRule] = (),
        algorithm: Algorithm | None = None,
        index: NameIndex | None = None,
    ) -> None:
        rules = list(rules)
        self.goods = GoodsRules(rules)
        self.algorithm = algorithm or get_algorithm()
        self.index = index or NameIndex()
        self.owners: list[_Owner] = []
        self.names: list[str] = []
        self.forms: list[frozenset[str]] = []  # legal-form classes of each indexed name
        self.weak: list[bool] = []  # the indexed name is a weak alias
        self.thresholds: dict[tuple[str, str], float] = {}  # (list or "*", schema or "*")
        self.scored: list[int] = []  # the row a row is scored as (a name without patronymic:
        # found by "Viktor Smirnov", scored as SMIRNOV, Viktor Vladimirovich)
        self.by_id: dict[str, list[int]] = defaultdict(list)
        self.versions: dict[str, str] = {r.list: r.version for r in rules}
        self.party_lists: dict[str, int] = {}  # list -> entries indexed
        self.shipped_extract = False  # the party list is only the extract shipped with Keruen
        self.exact = False  # the code before pruning: every shortlisted name, scored in full
        self._digests: dict[int, str] = {}  # owner -> entry digest, hashed once

    @property
    def threshold(self) -> float:
        return self.algorithm.threshold

    def add_entries(self, entries: Iterable[Entry], version: str) -> None:
        """Index a list's entries: every name under its blocking keys, every identifier exactly."""
        for entry in entries:
            self.versions[entry.list] = version
            self.party_lists[entry.list] = self.party_lists.get(entry.list, 0) + 1
            names = _distinct_names(entry.names, entry.weak_names)
            if not names:  # nothing to match a name against
                continue
            owner = len(self.owners)
            side = Side(
                "",
                frozenset(entry.countries),
                _ids(i.value for i in entry.ids),
                _organization(entry.schema),
                birth_dates=frozenset(entry.birth_dates),
            )
            first = len(self.index)
            keys = {key for key, _, _, _ in names}
            for key, name, forms, weak in names:
                row = self._file(key, owner, name, forms, weak, None)
                short = _without_patronymics(key)
                if short and short not in keys:
                    keys.add(short)
                    self._file(short, owner, name, forms, weak, row)
            self.owners.append(_Owner(entry, version, side, range(first, len(self.index))))
            for value in side.ids:
                self.by_id[value].append(owner)

    @property
    def name_count(self) -> int:
        """Names indexed (a name also filed without its patronymic counts once)."""
        return sum(1 for row, scored in enumerate(self.scored) if row == scored)

    def _file(
        self, key: str, owner: int, name: str, forms: frozenset[str], weak: bool, as_row: int | None
    ) -> int:
        row = self.index.add(key, owner)
        self.names.append(name)
        self.forms.append(forms)
        self.weak.append(weak)
        self.scored.append(row if as_row is None else as_row)
        return row

    def threshold_for(self, owner: int) -> float:
        """The threshold of an entry's list and schema, most specific first."""
        if not self.thresholds:
            return self.threshold
        e = self.owners[owner].entry
        for key in ((e.list, e.schema), (e.list, "*"), ("*", e.schema)):
            if key in self.thresholds:
                return self.thresholds[key]
        return self.threshold

    @property
    def warning(self) -> str | None:
        """What a user must be told before trusting a party screen's silence, or None."""
        if not self.party_lists:
            return "no party list is loaded: party screening finds nothing (keruen lists load)"
        if self.shipped_extract:
            n = sum(self.party_lists.values())
            return (
                f"only the shipped OFAC extract ({n} entries) is loaded, not a full list: "
                "load one with `keruen lists load ofac sdn.csv`"
            )
        return None

    def screen_goods(self, hs: str, destination: str, on: date) -> list[GoodsHit]:
        return self.goods.screen(hs, destination, on)

    def screen_party(
        self,
        name: str,
        country: str | None = None,
        ids: Sequence[str] = (),
        threshold: float | None = None,
        limit: int = 10,
        schema: str | None = None,
        birth_dates: Sequence[str] = (),
    ) -> list[PartyHit]:
        """List entries that `name` (with its country, identifiers and, when known, its schema:
        person or organization, and dates of birth as YYYY[-MM[-DD]]) matches, best first. A
        threshold given here overrides the per-list and per-schema ones."""
        query = analyse(name)
        side = Side(
            query.key,
            frozenset({country.upper()}) if country else frozenset(),
            _ids(ids),
            True if query.forms else _organization(schema or ""),
            frozenset(query.forms),
            frozenset(birth_dates),
        )
        floor = self.floor if threshold is None else threshold
        rows = self.index.shortlist(side.key, PREFILTER, SHORTLIST, 1.0 if self.exact else BEHIND)
        best = self._score_rows(side, rows, floor)
        for owner in {o for value in side.ids for o in self.by_id.get(value, ())}:
            best.setdefault(owner, self._best_name(side, owner))
        ranked = sorted(
            (
                (s, o, r)
                for o, (s, r, _) in best.items()
                if s >= (self.threshold_for(o) if threshold is None else threshold)
            ),
            reverse=True,
        )
        return [self._hit(name, side, o, r, best[o][2]) for _, o, r in ranked[:limit]]

    @property
    def floor(self) -> float:
        """The lowest threshold of any list and schema: a name scoring below it is no hit."""
        return min([self.threshold, *self.thresholds.values()])

    def _score_rows(
        self, side: Side, rows: list[tuple[int, float]], floor: float
    ) -> dict[int, Scored]:
        """The best-scoring row of each owner among `rows`, with its feature values when all
        were computed; a score below `floor` may be an upper bound only
        (`Algorithm.values_at_least`), unless `exact` is set (the code before pruning)."""
        best: dict[int, Scored] = {}
        scored, owners, alg = self.scored, self.index.owners, self.algorithm
        done: set[int] = set()  # a name and its row without patronymic are scored as one
        for found, _ in rows:
            row = scored[found]
            if row in done and not self.exact:
                continue
            done.add(row)
            owner = owners[row]
            pair = Pair(side, self._side(owner, row))
            if self.exact:
                score, values = alg.score(pair), None
            else:
                score, values = alg.values_at_least(pair, floor)
            if score > best.get(owner, _NOTHING)[0]:
                best[owner] = (score, row, values)
        return best

    def _best_name(self, side: Side, owner: int) -> Scored:
        rows = {self.scored[r] for r in self.owners[owner].rows}
        score, row = max((self.algorithm.score(Pair(side, self._side(owner, r))), r) for r in rows)
        return score, row, None

    def _side(self, owner: int, row: int) -> Side:
        o = self.owners[owner].side
        return Side(
            self.index.keys[row],
            o.countries,
            o.ids,
            o.organization,
            self.forms[row],
            o.birth_dates,
            self.weak[row],
        )

    def _digest(self, owner: int) -> str:
        found = self._digests.get(owner)
        if found is None:
            found = self._digests[owner] = self.owners[owner].entry.digest
        return found

    def _hit(
        self, name: str, side: Side, owner: int, row: int, values: list[float] | None = None
    ) -> PartyHit:
        o = self.owners[owner]
        if values is None:
            score, contributions = self.algorithm.explain(Pair(side, self._side(owner, row)))
        else:
            score, contributions = self.algorithm.explained(values)
        return PartyHit(
            list=o.entry.list,
            version=o.version,
            entry_id=o.entry.id,
            name=name,
            matched_name=self.names[row],
            score=score,
            schema=o.entry.schema,
            programs=o.entry.programs,
            countries=o.entry.countries,
            contributions=contributions,
            entry_digest=self._digest(owner),
        )


def parse_thresholds(text: str) -> dict[tuple[str, str], float]:
    """ "ofac-sdn:person=0.82;*:organization=0.8" -> {("ofac-sdn", "person"): 0.82, ...}; a
    list without ":schema" applies to all its schemas. ValueError names the bad part."""
    out: dict[tuple[str, str], float] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        lst, _, schema = key.strip().partition(":")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not sep or not lst or not 0.0 < number <= 1.0:
            raise ValueError(f"screening threshold {part!r}: write LIST[:SCHEMA]=0.xx")
        out[(lst, schema or "*")] = number
    return out


def _ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v for v in map(normalise_id, values) if len(v) >= MIN_ID_LENGTH)


def _organization(schema: str) -> bool | None:
    return {"person": False, "organization": True}.get(schema)


def _without_patronymics(key: str) -> str | None:
    """A person's name without its patronymics, when that leaves two words or more."""
    words = key.split()
    kept = [w for w in words if not is_patronymic(w)]
    return " ".join(kept) if len(words) > len(kept) >= 2 else None


def _distinct_names(
    names: Iterable[str], weak: Iterable[str] = ()
) -> list[tuple[str, str, frozenset[str], bool]]:
    """(skeleton key, original, legal forms, is weak) per name, dropping names that reduce to
    the same key (a weak alias that is also a strong name is strong)."""
    seen: dict[str, tuple[str, str, frozenset[str], bool]] = {}
    for name, is_weak in [(n, False) for n in names] + [(n, True) for n in weak]:
        found = analyse(name)
        key = found.key
        if key and key not in seen:
            seen[key] = (key, name, frozenset(found.forms), is_weak)
    return list(seen.values())
