"""The batch trail: every standing move drawn and listed, neighbours expand on demand, and a
declarant cannot reach another company's batch by editing the URL."""

from __future__ import annotations

import re

from keruen.store import queries
from tests.factory import A, B, C
from tests.web.conftest import MINE, THEIRS, Web

MOVE = re.compile(r'<tr data-event="([^"]+)"')


def test_officer_sees_every_move_of_the_batch(web: Web) -> None:
    page = web.get("olga", f"/ui/batches/{MINE}")
    assert page.status_code == 200
    with web.engine.connect() as conn:
        history = queries.public(queries.history(conn, MINE))["events"]
    assert set(MOVE.findall(page.text)) == {e["id"] for e in history}
    for holder in (A, B):
        assert f'data-node="{holder}"' in page.text
    assert "<svg" in page.text and 'class="edge dispatch' in page.text


def test_declarant_reaches_its_own_batch_only(web: Web) -> None:
    assert web.get("acme", f"/ui/batches/{MINE}").status_code == 200
    bolat = web.get("bolat", f"/ui/batches/{MINE}")  # received a transfer: sees that move only
    assert bolat.status_code == 200 and set(MOVE.findall(bolat.text)) == {"a-b"}
    assert "a2" not in MOVE.findall(web.get("bolat", f"/ui/batches/{MINE}").text)
    refused = web.get("acme", f"/ui/batches/{THEIRS}")
    missing = web.get("acme", "/ui/batches/55501/010324/0009999/001")
    assert refused.status_code == missing.status_code == 404
    assert C not in refused.text
    assert refused.text.replace(THEIRS, "X") == missing.text.replace(
        "55501/010324/0009999/001", "X"
    )


def test_roles_without_party_data_are_refused_the_trail(web: Web) -> None:
    assert web.get("ana", f"/ui/batches/{MINE}").status_code == 403
    assert web.get("root", f"/ui/batches/{MINE}").status_code == 403
