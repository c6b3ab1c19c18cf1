"""Plain-language sentences built from a finding's facts: what an officer reads first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Facts = dict[str, Any]


def _when(t: str | None) -> str:
    return t.replace("T", " ").replace("Z", " UTC") if t else "?"


def _at(f: Facts) -> str:
    if f.get("lat") is None:
        return ""
    return (
        f" at {abs(f['lat']):.3f}°{'N' if f['lat'] >= 0 else 'S'} "
        f"{abs(f['lon']):.3f}°{'E' if f['lon'] >= 0 else 'W'}"
    )


def _post(code: str, name: str | None, neighbour: str | None) -> str:
    border = f", border with {neighbour}" if neighbour else ""
    return f"{name or code} ({code}{border})"


def _overdue(f: Facts) -> str:
    seen = (
        f" Last seen {_when(f['last_seen'])}{_at(f)}, {f['km_to_exit']:.0f} km from the exit "
        f"post {f['exit_post']}."
        if f.get("last_seen")
        else " No seal position was reported."
    )
    return (
        f"Not exited by its deadline {_when(f['deadline'])}: {f['hours_over']:.1f} h overdue "
        f"at {_when(f['now'])}.{seen}"
    )


def _late_exit(f: Facts) -> str:
    return (
        f"Exited at {f['post']} on {_when(f['closed'])}, {f['hours_late']:.1f} h after its "
        f"deadline {_when(f['deadline'])}."
    )


def _exit_other_post(f: Facts) -> str:
    toward = " — toward Russia, for goods declared to a third country" if f["toward_russia"] else ""
    actual = _post(f["post"], f["post_name"], f["post_neighbour"])
    declared = _post(f["declared_post"], f["declared_post_name"], f["declared_neighbour"])
    return (
        f"Exited at {actual} instead of the declared {declared}, {f['km_between']:.0f} km "
        f"apart; declared destination {f['destination']}{toward}."
    )


def _destination_mismatch(f: Facts) -> str:
    return (
        f"Receipt {f['receipt']} confirms arrival in {f['receipt_country']}, but the declared "
        f"destination is {f['destination']}."
    )


def _route_deviation(f: Facts) -> str:
    if f["source"] != "position":
        return (
            f"Seal {f['seal']} reported a road deviation (EAEU code 03){_at(f)} on "
            f"{_when(f['first'])}."
        )
    return (
        f"Seal {f['seal']} left its corridor ({f['corridor']}): {f['pings']} position(s) "
        f"from {_when(f['first'])} to {_when(f['last'])}, up to {f['max_km']:.0f} km from "
        f"the route{_at(f)}."
    )


def _checkpoint_off_route(f: Facts) -> str:
    return (
        f"Passed {_post(f['post'], f['post_name'], f['neighbour'])}, "
        f"{f['km_from_corridor']:.0f} km off its corridor (allowed {f['threshold_km']:.0f} km)."
    )


def _explained(f: Facts) -> str:
    return f" Explained by incident {f['explained_by']}." if f.get("explained_by") else ""


def _long_stop(f: Facts) -> str:
    state = "has stood" if f["ongoing"] else "stood"
    return (
        f"The load {state} still for {f['hours']:.1f} h{_at(f)} from {_when(f['start'])} "
        f"to {_when(f['end'])}, {f['km_to_post']:.0f} km from the nearest border post "
        f"{f['nearest_post']}.{_explained(f)}"
    )


def _seal_breach(f: Facts) -> str:
    if f["source"] == "close":
        return f"At exit through {f['post']} the seals were reported not intact."
    code = f" (EAEU code {f['code']}: {f['code_meaning']})" if f.get("code") else ""
    return (
        f"Seal {f['seal']} reported '{f['state']}'{code}{_at(f)} on {_when(f['first'])}, "
        f"{f['km_to_post']:.0f} km from the nearest border post.{_explained(f)}"
    )


def _seal_silent(f: Facts) -> str:
    if f["source"] != "gap":
        return (
            f"Seal {f['seal']} reported no data for two periods (EAEU code 06) on "
            f"{_when(f['from'])}."
        )
    still = " and is still silent" if f["ongoing"] else ""
    return (
        f"Seal {f['seal']} sent nothing for {f['hours']:.1f} h (allowed "
        f"{f['threshold_hours']:.0f} h), from {_when(f['from'])} to {_when(f['to'])}{still}."
        f"{_explained(f)}"
    )


def _seal_alarm(f: Facts) -> str:
    return (
        f"Seal {f['seal']} reported EAEU code {f['code']}: {f['code_meaning']}{_at(f)} on "
        f"{_when(f['time'])}."
    )


def _seal_reused(f: Facts) -> str:
    return (
        f"Seal {f['seal']} was declared for this movement while still bound to the open "
        f"movement {f['other_mrn']}."
    )


def _difference(what: str, f: Facts) -> str:
    where = {
        "checkpoint": f"at checkpoint {f.get('post')}",
        "exit": f"at exit {f.get('post')}",
        "receipt": f"on receipt {f.get('receipt')}",
    }[f["stage"]]
    u = f["unit"]
    return (
        f"{what} {where} is {f['measured']} {u} against {f['reference']} {u} "
        f"{f['against']}: {f['difference']:+} {u} ({f['difference_pct']:+.1f}%), beyond the "
        f"tolerance of {f['tolerance']:f} {u}."
    )


def _mass_difference(f: Facts) -> str:
    return _difference("Mass", f)


def _quantity_difference(f: Facts) -> str:
    return _difference("Quantity", f)


def _ping_after_close(f: Facts) -> str:
    return (
        f"Seal {f['seal']} kept reporting after the exit at {f['exit_post']} on "
        f"{_when(f['closed'])}: {f['pings']} position(s) until {_when(f['last'])}, up to "
        f"{f['max_km_from_exit']:.0f} km from the exit post, last{_at(f)}."
    )


def _ping_unbound(f: Facts) -> str:
    why = (
        f"its movement {f['cancelled_mrn']} was cancelled"
        if f.get("cancelled_mrn")
        else "it is bound to no declared, open movement"
    )
    return (
        f"Seal {f['seal']} reported {f['pings']} position(s) from {_when(f['first'])} to "
        f"{_when(f['last'])} although {why}; last{_at(f)}."
    )


def _event_after_close(f: Facts) -> str:
    return (
        f"A {f['type']} ({f['id']}) at {f.get('post') or '?'} arrived dated after the exit "
        f"on {_when(f['closed'])}."
    )


def _undeclared(f: Facts) -> str:
    why = (
        f"they are dated before its declaration on {_when(f['declared_at'])}"
        if f.get("declared_at")
        else "no transit declaration for it exists"
    )
    return f"{f['events']} event(s) ({', '.join(f['types'])}) name this MRN, but {why}."


def _duplicate_mrn(f: Facts) -> str:
    return (
        f"Declaration {f['second_id']} reuses the MRN of declaration {f['first_id']}; the "
        f"first one is monitored."
    )


def _route_unresolved(f: Facts) -> str:
    return (
        f"Declared route waypoint {f['waypoint']!s} is not a known UN/LOCODE or post; the "
        f"corridor leaves it out."
    )


EXPLAIN: dict[str, Callable[[Facts], str]] = {
    "overdue": _overdue,
    "late_exit": _late_exit,
    "exit_other_post": _exit_other_post,
    "destination_mismatch": _destination_mismatch,
    "route_deviation": _route_deviation,
    "checkpoint_off_route": _checkpoint_off_route,
    "long_stop": _long_stop,
    "seal_breach": _seal_breach,
    "seal_silent": _seal_silent,
    "seal_alarm": _seal_alarm,
    "seal_reused": _seal_reused,
    "mass_difference": _mass_difference,
    "quantity_difference": _quantity_difference,
    "ping_after_close": _ping_after_close,
    "ping_unbound": _ping_unbound,
    "event_after_close": _event_after_close,
    "undeclared": _undeclared,
    "duplicate_mrn": _duplicate_mrn,
    "route_unresolved": _route_unresolved,
}


def explain(kind: str, mrn: str, facts: Facts) -> str:
    subject = f"Transit {mrn}: " if mrn else ""
    return subject + EXPLAIN[kind](facts)
