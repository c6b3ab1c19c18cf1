"""The tenancy matrix: every role × every party-level route × every kind of resource.

One ledger with a chain A → B → C → Russia (A imported the batch from China), a batch of C's
alone, transits of A and of a foreign carrier, and the alerts the detectors raise about them.
For every declarant and every answer it gets, the test collects what it must not see — the
tax ids of companies that are not its direct counterparty, the Russian buyer and the Chinese
seller unless they are its own — and counts the leaks (0). For every route that names a
resource, another company's resource must answer exactly like one that does not exist
(status and body, the identifier aside): on reads and on writes, the adjust trick included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.risk import service
from keruen.store import schema as t
from tests.api.conftest import SETTINGS, Api, make_api
from tests.factory import (
    CN_SELLER,
    RU_BUYER,
    A,
    B,
    C,
    adjust,
    dispatch,
    import_,
    transfer,
    transform,
    transit_open,
    write_off,
)

CHAIN = "55501/010324/0000001/001"  # A imports, gives 40 to B, B gives 20 to C, C ships 10 to RU
THEIRS = "55501/010324/0000002/001"  # C's alone
MISSING = "55501/010324/0009999/001"  # nobody's
DECLARANTS = {"acme": A, "bolat": B, "caspian": C}
# whom each may see: itself and the counterparties of the moves it gave or received (C imported
# THEIRS from the Chinese seller too; it must still never see A, its supplier's supplier)
ALLOWED = {
    A: {A, B, CN_SELLER["tax_id"], CN_SELLER["name"]},
    B: {B, A, C},
    C: {C, B, RU_BUYER["tax_id"], RU_BUYER["name"], CN_SELLER["tax_id"], CN_SELLER["name"]},
}
SECRETS = {A, B, C, RU_BUYER["tax_id"], RU_BUYER["name"], CN_SELLER["tax_id"], CN_SELLER["name"]}


@pytest.fixture
def world(sqlite_engine: Engine) -> Iterator[Api]:
    for api in make_api(sqlite_engine, replace(SETTINGS, declarant_alerts="own")):
        own = transit_open("o1", "MRN-A")
        own["carrier"] = {"tax_id": A, "name": "Acme Logistics", "country": "KZ"}
        r = api.post_events(
            "olga",
            import_("a1", CHAIN, holder=A),
            transfer("a2", CHAIN, A, B, "40"),
            transfer("b1", CHAIN, B, C, "20", day=3),
            dispatch("c1", CHAIN, C, "10"),
            import_("c2", THEIRS, holder=C),
            write_off("c3", THEIRS, C, "5"),
            own,
            transit_open("o2", "MRN-FOREIGN"),
        )
        assert r.json()["accepted"] == 8, r.text
        service.detect(api.engine)
        yield api


@dataclass
class Tally:
    answers: int = 0
    leaks: list[tuple[str, str, str]] | None = None

    def check(self, user: str, route: str, text: str, asked: str = "") -> None:
        """Count the secrets in an answer, beyond what the request itself named."""
        self.answers += 1
        allowed = ALLOWED[DECLARANTS[user]] | ({asked} if asked else set())
        for secret in SECRETS - allowed:
            if secret in text:
                assert self.leaks is not None
                self.leaks.append((user, route, secret))


def _alert_ids(api: Api) -> list[int]:
    return [a["id"] for a in api.get("olga", "/v1/alerts", params={"level": "all"}).json()]


def _reads(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """(route, path, params) of every party-level read, over every resource."""
    rows: list[tuple[str, str, dict[str, Any]]] = [
        ("rejections", "/v1/rejections", {}),
        ("transits", "/v1/transits", {}),
        ("alerts", "/v1/alerts", {"level": "all"}),
    ]
    for tax in (A, B, C, "999999999999"):
        rows.append(("stock", f"/v1/stock/{tax}", {}))
    for batch in (CHAIN, THEIRS, MISSING):
        rows.append(("history", f"/v1/batches/{batch}/history", {}))
        for way in ("back", "forward"):
            rows.append((f"trace {way}", f"/v1/batches/{batch}/trace", {"direction": way}))
    for mrn in ("MRN-A", "MRN-FOREIGN", "MRN-NONE"):
        rows.append(("transit", f"/v1/transits/{mrn}", {}))
    for alert_id in [*_alert_ids(api), 999999]:
        rows.append(("alert", f"/v1/alerts/{alert_id}", {}))
    return rows


def test_no_declarant_reads_what_it_is_not_party_to(world: Api) -> None:
    """Every declarant × every read route × every resource: 0 leaks."""
    tally = Tally(leaks=[])
    for user in DECLARANTS:
        for route, path, params in _reads(world):
            r = world.get(user, path, params=params)
            assert r.status_code in (200, 403, 404), (user, path, r.text)
            tally.check(user, route, r.text, path.rsplit("/", 1)[-1] if route == "stock" else "")

        for batch in (CHAIN, THEIRS, MISSING):
            body = {"batch": batch, "quantity": "1", "buyer": RU_BUYER}
            r = world.client.post("/v1/precheck", json=body, headers=world.auth(user))
            shown = r.text.replace(json.dumps(RU_BUYER["name"], ensure_ascii=False)[1:-1], "")
            tally.check(user, "precheck", shown.replace(RU_BUYER["tax_id"], ""))  # echoed

    print(f"tenancy matrix: {tally.answers} answers to 3 declarants, {len(tally.leaks)} leaks")
    for leak in tally.leaks:
        print("  leak:", leak)
    assert tally.leaks == []
    assert tally.answers > 3 * 20


def test_once_held_batch_shows_nothing_after_the_declarant(world: Api) -> None:
    """The reported leak: A held CHAIN once; it must not see B's buyer C, C's Russian buyer, or
    the alerts about them."""
    history = world.get("acme", f"/v1/batches/{CHAIN}/history").json()
    assert [e["id"] for e in history["events"]] == ["a1", "a2"]
    fwd = world.get("acme", f"/v1/batches/{CHAIN}/trace", params={"direction": "forward"}).json()
    node = fwd["batches"][0]
    assert node["exits"] == [] and node["held_by"] == [{"holder": A, "quantity": "60"}]
    assert fwd["totals"] == {"held": "60"}
    assert world.get("acme", "/v1/alerts", params={"level": "all"}).json() == []
    officer = world.get("olga", "/v1/alerts", params={"level": "all"}).json()
    assert any(A in a.get("tax_ids", []) for a in officer)  # they exist, naming A, yet hidden


def _same(foreign: Any, missing: Any, ident: tuple[str, str]) -> None:
    """The same status and body, the identifier asked for aside."""
    assert foreign.status_code == missing.status_code, (foreign.text, missing.text)
    named = re.compile(rf"(?<![0-9A-Za-z]){re.escape(ident[0])}(?![0-9A-Za-z])")
    text = named.sub(ident[1], foreign.text)
    assert json.loads(text) == missing.json(), (foreign.text, missing.text)


@pytest.mark.parametrize("user", ["acme", "bolat"])
@pytest.mark.parametrize(
    "route",
    ["history", "trace?direction=back", "trace?direction=forward"],
)
def test_foreign_batch_reads_answer_like_missing_ones(world: Api, user: str, route: str) -> None:
    path, _, query = route.partition("?")
    params = dict([query.split("=")]) if query else {}
    foreign = world.get(user, f"/v1/batches/{THEIRS}/{path}", params=params)
    missing = world.get(user, f"/v1/batches/{MISSING}/{path}", params=params)
    _same(foreign, missing, (THEIRS, MISSING))


def test_foreign_transits_alerts_and_prechecks_answer_like_missing_ones(world: Api) -> None:
    _same(
        world.get("acme", "/v1/transits/MRN-FOREIGN"),
        world.get("acme", "/v1/transits/MRN-NONEX"),
        ("MRN-FOREIGN", "MRN-NONEX"),
    )
    for alert_id in _alert_ids(world):
        if world.get("acme", f"/v1/alerts/{alert_id}").status_code == 404:
            _same(
                world.get("acme", f"/v1/alerts/{alert_id}"),
                world.get("acme", f"/v1/alerts/{10**9 + alert_id}"),
                (str(alert_id), str(10**9 + alert_id)),
            )
    bodies = {b: {"batch": b, "quantity": "1", "buyer": RU_BUYER} for b in (THEIRS, MISSING)}
    answers = {
        b: world.client.post("/v1/precheck", json=body, headers=world.auth("acme"))
        for b, body in bodies.items()
    }
    _same(answers[THEIRS], answers[MISSING], (THEIRS, MISSING))


def _events(api: Api) -> int:
    with api.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(t.events)) or 0)


WRITES = {  # name: a declarant's event over a batch, built for the batch and the declarant
    "adjust trick": lambda b, h: adjust("w1", b, h, "0.000001"),
    "negative adjust": lambda b, h: adjust("w2", b, h, "-1"),
    "transfer": lambda b, h: transfer("w3", b, h, C, "1", day=5),
    "dispatch": lambda b, h: dispatch("w4", b, h, "1", day=5),
    "write_off": lambda b, h: write_off("w5", b, h, "1", day=5),
    "transform": lambda b, h: transform("w6", h, [(b, "1")], "P-77", "1", day=5),
}


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_writes_on_a_foreign_batch_answer_like_a_missing_one(world: Api, kind: str) -> None:
    """No 201-vs-422 oracle on batch numbers, and nothing written: the adjust trick is a row."""
    before = _events(world)
    make = WRITES[kind]
    foreign = world.post_events("acme", make(THEIRS, A))
    missing = world.post_events("acme", make(MISSING, A))
    _same(foreign, missing, (THEIRS, MISSING))
    assert foreign.status_code == 422 and foreign.json()["type"].endswith("unknown-batch")
    officer = world.post_events("olga", {**make(MISSING, A), "id": "w-officer"})
    assert officer.json()["reason"] == missing.json()["reason"]  # the ledger's own words
    assert officer.json()["field"] == missing.json()["field"]
    assert _events(world) == before
    assert world.get("acme", f"/v1/batches/{THEIRS}/history").status_code == 404
    stored = world.get("acme", "/v1/rejections").json()[:2]  # kept, like any rejection
    assert [r["reason"].replace(THEIRS, MISSING) for r in stored] == [missing.json()["reason"]] * 2
    assert {r["error"] for r in stored} == {"UnknownBatch"}


def test_in_a_batch_the_refusal_is_per_event_like_the_ledgers(world: Api) -> None:
    r = world.post_events(
        "acme",
        adjust("m1", THEIRS, A, "0.000001"),
        write_off("m2", CHAIN, A, "1", day=5),
        adjust("m3", MISSING, A, "0.000001"),
        batch=True,
    )
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "accepted", "rejected"]
    assert results[0]["reason"].replace(THEIRS, MISSING) == results[2]["reason"]


def test_declarant_adjusts_a_batch_it_held_and_creates_in_the_same_request(world: Api) -> None:
    assert world.post_events("acme", adjust("h1", CHAIN, A, "1", day=5)).status_code == 201
    new = "55501/010324/0000055/001"
    r = world.post_events(
        "acme",
        import_("h2", new, holder=A, day=5),
        write_off("h3", new, A, "1", day=6),
        batch=True,
    )
    assert r.json()["accepted"] == 2, r.text


def test_other_roles_on_every_party_route(world: Api) -> None:
    """Analysts and admins read no party data, whatever the resource; officers read it all."""
    for route, path, params in _reads(world):
        for user in ("ana", "root"):
            r = world.get(user, path, params=params)
            assert r.status_code == 403, (user, route, r.text)
            said = {k: v for k, v in r.json().items() if k != "instance"}  # not the path asked
            assert not any(secret in str(said) for secret in SECRETS), r.text
        r = world.get("olga", path, params=params)
        assert r.status_code in (200, 404), (route, r.text)
    history = world.get("olga", f"/v1/batches/{CHAIN}/history").json()
    assert [e["id"] for e in history["events"]] == ["a1", "a2", "b1", "c1"]
