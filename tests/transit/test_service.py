"""The adapter over the ledger: replaying stored events gives what the pure tracker gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.transit import service
from keruen.transit.errors import BadTransitQuery, MovementNotFound
from keruen.transit.model import Finding
from tests import factory as ledger
from tests.transit import factory as f
from tests.transit.factory import T0
from tests.transit.scenarios import CASES


def ingest(engine: Engine, events: list[dict[str, Any]]) -> None:
    report = ingest_lines(engine, f.lines(events))
    assert report.rejected == 0, report.public()


def test_every_scenario_stored_in_one_ledger(engine: Engine) -> None:
    """All scenarios, renamed apart, in one ledger: each still raises exactly its findings."""
    tagged = [(f"C{i}", case) for i, case in enumerate(CASES)]
    ingest(engine, [e for tag, case in tagged for e in f.renamed(case.events, tag)])
    with engine.connect() as conn:
        for tag, case in tagged:
            now = f.T0 + timedelta(
                hours=case.now_h if case.now_h is not None else f.hours_of(case.events)
            )
            found = [x for x in service.findings(conn, now, case.config) if _of(x, tag)]
            assert {x.kind for x in found} == case.expect, case.name
            if case.state:
                states = {v.mrn: v.state for v in service.movements(conn, now, case.config)}
                assert states[f"{tag}-M1"] == case.state, case.name


def _of(finding: Finding, tag: str) -> bool:
    seal = finding.facts.get("seal")
    return finding.mrn.startswith(f"{tag}-") or (
        finding.mrn == "" and isinstance(seal, str) and seal.startswith(f"{tag}-")
    )


def test_now_defaults_to_the_latest_event_and_cuts_later_events(engine: Engine) -> None:
    events = [f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL", days=1), f.ping("S1", 2, 45.3, 82.2)]
    ingest(engine, events)
    with engine.connect() as conn:
        assert service.findings(conn) == []  # latest event: 2 h after the declaration
        late = service.findings(conn, T0 + timedelta(hours=30))
        early = service.movement(conn, "M1", T0 + timedelta(hours=1))
    assert {x.kind for x in late} == {"overdue", "seal_silent"}
    assert early.view.state == "declared" and early.view.pings == 0


def test_show_one_movement(engine: Engine) -> None:
    case = next(c for c in CASES if c.name.startswith("declared to Uzbekistan"))
    ingest(engine, case.events)
    with engine.connect() as conn:
        detail = service.movement(conn, "M1")
    assert detail.view.state == "diverted" and detail.view.exited_at == "KZKZ1-ROAD"
    types = [e.type for e in detail.timeline]
    assert types[0] == "transit_open" and types[-1] == "transit_close"
    assert any(e.data.get("on_corridor") is False for e in detail.timeline)
    assert [p.code for p in detail.corridor.places] == [
        "KZHOR-ROAD",
        "KZALA",
        "KZTAR",
        "KZZAA",
        "KZZH1-ROAD",
    ]
    public = detail.public()
    assert public["declaration"]["mrn"] == "M1" and public["findings"]


def test_unknown_mrn(engine: Engine) -> None:
    ingest(engine, [f.checkpoint("M9", 1, "KZDOS-RAIL")])
    with engine.connect() as conn, pytest.raises(MovementNotFound, match="1 event"):
        service.movement(conn, "M9")


def test_unknown_post_is_rejected_by_name(engine: Engine) -> None:
    report = ingest_lines(engine, f.lines([f.open_("M1", "KZDOS-RAIL", "KZXXX-ROAD")]))
    assert report.rejected == 1
    assert "exit_post" in report.rejections[0].public()["reason"]
    assert "not a known border post" in report.rejections[0].public()["reason"]


def test_dispatch_and_partner_receipt(engine: Engine) -> None:
    batch = "55501/010324/0000001/001"
    ingest(
        engine,
        [
            ledger.import_("i1", batch, qty="100", mass_kg="1000"),
            ledger.dispatch("d1", batch, ledger.A, "100", day=4) | {"mass_kg": "1000"},
            f.receipt("d1", 24 * 6, "KG", mass="700", quantity="70"),
        ],
    )
    with engine.connect() as conn:
        found = service.findings(conn)
    assert {(x.kind, x.mrn, x.subject) for x in found} == {
        ("destination_mismatch", "d1", "dispatch"),
        ("mass_difference", "d1", "dispatch"),
        ("quantity_difference", "d1", "dispatch"),
    }


def test_cancelled_checkpoint_is_left_out(engine: Engine) -> None:
    cp = f.checkpoint("M1", 3, "KZKZ1-ROAD")
    ingest(engine, [f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL"), cp, f.cancel(cp["id"], 4)])
    with engine.connect() as conn:
        assert service.findings(conn) == []


@pytest.mark.parametrize("text", ["yesterday", "2024-03-01T10:00:00"])
def test_bad_now(text: str) -> None:
    with pytest.raises(BadTransitQuery, match="now"):
        service.parse_now(text)


def test_overview_is_findings_and_movements_from_one_replay(engine: Engine) -> None:
    case = next(c for c in CASES if c.name.startswith("declared to Uzbekistan"))
    ingest(engine, case.events)
    with engine.connect() as conn:
        both = service.overview(conn)
        assert both.findings == service.findings(conn)
        assert both.movements == service.movements(conn)
    assert [(v.mrn, v.state, v.findings) for v in both.movements] == [("M1", "diverted", 2)]


def test_exported_names_exist() -> None:
    import keruen.transit as package

    assert all(hasattr(package, name) for name in package.__all__)


def test_replay_reports_progress(engine: Engine) -> None:
    case = next(c for c in CASES if c.name.startswith("declared to Uzbekistan"))
    ingest(engine, case.events)
    seen: list[int] = []
    with engine.connect() as conn:
        service.findings(conn, progress=seen.append)
    assert sum(seen) == len(case.events)
