"""`keruen detect | alerts | lanes | precheck | case … | evaluate`: thin shells over services."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.engine import Connection

from keruen import clock
from keruen.clock import micros
from keruen.console import DbOption, JsonOption, emit_json, err, fail, out
from keruen.errors import KeruenError
from keruen.model import events as ev
from keruen.risk import cases, queries, service
from keruen.risk.config import load
from keruen.risk.errors import BadInput
from keruen.risk.model import iso
from keruen.settings import get_settings
from keruen.store import db

T = TypeVar("T")
ConfigOption = typer.Option(
    "--config", help="Risk configuration TOML (default: $KERUEN_RISK_CONFIG)"
)


def guard(fn: Callable[[], T]) -> T:
    """Run a service call; a user's mistake becomes a clear message, never a traceback."""
    try:
        return fn()
    except KeruenError as e:
        fail(str(e))


def parse_time(text: str | None, field: str) -> int | None:
    """An RFC 3339 time with an offset, as ledger microseconds (None when not given)."""
    return None if text is None else micros(clock.parse_time(text, field, BadInput))


def operator(conn: Connection) -> str:
    """Who acts in a case from the CLI: the configured operator (`KERUEN_OPERATOR`), an
    enabled officer of the users table — never a name typed on the command line."""
    name = get_settings().operator
    if not name:
        raise BadInput(
            "operator", "set KERUEN_OPERATOR to your user name (an officer): the CLI acts as it"
        )
    cases.check_officer(conn, name, "operator")
    return name


def register(app: typer.Typer) -> None:
    app.command()(detect)
    app.command()(alerts)
    app.command()(lanes)
    app.command()(outcomes)
    app.command()(precheck)
    app.command()(evaluate)
    case = typer.Typer(
        no_args_is_help=True,
        help="Cases: work alerts, hold, inspect, decide, reopen (as $KERUEN_OPERATOR).",
    )
    for fn in (
        case_open,
        case_assign,
        case_note,
        case_attach,
        case_hold,
        case_inspect,
        case_findings,
        case_decide,
        case_reopen,
        case_show,
        case_list,
    ):
        case.command(name=fn.__name__.removeprefix("case_"))(fn)
    app.add_typer(case, name="case")


def detect(
    db_url: Annotated[str | None, DbOption] = None,
    since: Annotated[str | None, typer.Option(help="Only findings complete at or after T")] = None,
    now: Annotated[str | None, typer.Option(help="Judge as of T (default: latest event)")] = None,
    config: Annotated[Path | None, ConfigOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Run every detector over the ledger; store new alerts (never twice), risks and lanes."""
    report = guard(
        lambda: service.detect(
            db.ready(db_url), parse_time(now, "now"), parse_time(since, "since"), load(config)
        )
    )
    if report.warning:
        err.print(f"[bold red]warning:[/] {report.warning}")
    if as_json:
        emit_json(report.public())
        return
    out.print(
        f"as of {iso(report.now_us)}: {report.alerts_added:,} new alert(s), "
        f"{report.signals_added:,} new signal(s) in {report.seconds:.1f} s"
    )
    _print_rates(report.lanes.public())


def _print_rates(rates: dict[str, Any]) -> None:
    table = Table("lane", "movements", "share", "expected", title="lanes")
    for lane, r in rates["lanes"].items():
        table.add_row(lane, f"{r['count']:,}", f"{r['share']:.2%}", f"{r['expected']:.2%}")
    out.print(table)
    out.print(
        f"random selections {rates['random_selections']:,} · planned mean wait "
        f"{rates['mean_wait_hours']:.2f} h per movement"
    )


def alerts(
    status: Annotated[str, typer.Option(help="open | in_case | closed | all")] = "all",
    level: Annotated[str, typer.Option(help="alert | signal | all")] = "alert",
    rule: Annotated[str | None, typer.Option(help="Only this rule code")] = None,
    about: Annotated[
        str | None, typer.Option(help="Citing this event id, batch, tax id or MRN")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most N (0: all)")] = 50,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The alerts queue, highest score first, each with its subject's identifiers."""
    with db.ready(db_url).connect() as conn:
        if about:
            rows = queries.about(conn, about)
        else:
            rows = guard(lambda: queries.alerts(conn, status, level, rule, limit or None))
    if as_json:
        emit_json(rows)
        return
    for a in rows:
        print_alert(a)


def print_alert(a: dict[str, Any]) -> None:
    """One alert as a header line and its explanation, readable in a narrow terminal."""
    status = a["status"] + (f" (case {a['case']}: {a['decision']})" if a["case"] else "")
    out.print(
        f"[bold]#{a['id']}[/] {a['score']:.2f} [bold]{a['rule']}[/] {a['subject_kind']} "
        f"{a['subject']} · {a['time'][:10]} · {status}",
        highlight=False,
    )
    out.print(f"    {a['explanation']}", highlight=False)


def lanes(
    config: Annotated[Path | None, ConfigOption] = None,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Lane rates of the movements as of the last detection run, beside the planned rates."""
    public = guard(lambda: service.lane_rates(db.ready(db_url), load(config)).public())
    if as_json:
        emit_json(public)
    else:
        _print_rates(public)


def outcomes(
    config: Annotated[Path | None, ConfigOption] = None,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Outcome figures: officers' precision and false-positive rate, lane rates, waiting."""
    found = guard(lambda: service.outcomes(db.ready(db_url), load(config)))
    if as_json:
        emit_json(found)
        return
    pct = "—" if found["precision"] is None else f"{found['precision']:.1%}"
    fpr = "—" if found["false_positive_rate"] is None else f"{found['false_positive_rate']:.1%}"
    out.print(
        f"{found['alerts']:,} alerts, {found['decided']:,} decided "
        f"({', '.join(f'{k} {v}' for k, v in found['by_decision'].items()) or 'none yet'}); "
        f"precision {pct}, false-positive rate {fpr}",
        highlight=False,
    )
    _print_rates(found["lanes"])


def _decimal(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadInput(field, f"{text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise BadInput(field, "must be a positive number")
    return value


def precheck(
    batch: Annotated[str, typer.Argument(help="Batch number")],
    quantity: Annotated[str, typer.Argument(help="Quantity to dispatch")],
    buyer_name: Annotated[str, typer.Option("--buyer-name", help="Buyer's name")],
    buyer_country: Annotated[str, typer.Option("--buyer-country", help="ISO alpha-2")],
    buyer_id: Annotated[
        str | None, typer.Option("--buyer-id", help="Buyer's tax id (none for many foreign buyers)")
    ] = None,
    holder: Annotated[
        str | None, typer.Option(help="Dispatching holder (default: largest)")
    ] = None,
    export: Annotated[bool, typer.Option("--export", help="An export, not a dispatch")] = False,
    at: Annotated[str | None, typer.Option(help="Judge as of T (default: latest event)")] = None,
    config: Annotated[Path | None, ConfigOption] = None,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The lane a planned dispatch would get, and why (origin-aware)."""

    def run() -> Any:
        country = buyer_country.upper()
        if len(country) != 2 or not country.isalpha():
            raise BadInput("buyer-country", f"{buyer_country!r} is not an ISO alpha-2 code")
        party = ev.Party(tax_id=buyer_id, name=buyer_name, country=country)
        return service.precheck(
            db.ready(db_url),
            batch,
            _decimal(quantity, "quantity"),
            party,
            holder,
            parse_time(at, "at"),
            export,
            load(config),
        )

    plan, verdict = guard(run)
    result = {
        "batch": plan.batch,
        "quantity": str(plan.quantity),
        "holder": plan.holder,
        "buyer": {
            "tax_id": plan.buyer.tax_id,
            "name": plan.buyer.name,
            "country": plan.buyer.country,
        },
        "lane": verdict.lane,
        "risk": verdict.risk,
        "rules": [a.rule for a in verdict.alerts],
        "reasons": verdict.reasons,
        "evidence": verdict.evidence,
    }
    if as_json:
        emit_json(result)
        return
    colour = {"green": "green", "yellow": "yellow", "red": "red", "blue": "blue"}[verdict.lane]
    out.print(f"lane [bold {colour}]{verdict.lane}[/] (risk {verdict.risk:.2f})")
    for r in verdict.reasons:
        out.print(f"  • {r}", highlight=False)
    for r in verdict.evidence:
        out.print(f"  [green]+[/] {r}", highlight=False)


def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="The simulator's truth.jsonl")],
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Recall of diverted value, alert precision, burden and time to detect, per scheme kind."""
    from keruen.risk.report import print_evaluation

    result = guard(lambda: service.evaluate(db.ready(db_url), truth))
    if as_json:
        emit_json(result)
    else:
        print_evaluation(result)


# --- cases ------------------------------------------------------------------------------------


def _case(db_url: str | None, fn: Callable[[Any], T]) -> T:
    eng = db.ready(db_url)

    def run() -> T:
        with eng.begin() as conn:
            return fn(conn)

    return guard(run)


def _act(
    db_url: str | None,
    action: str,
    case_id: int | None,
    fn: Callable[[Any, str], T],
    detail: dict[str, Any] | None = None,
) -> T:
    """A case action as the configured operator, and its entry in the audit log (the API's
    action names, client `cli`), in one transaction: both commit, or neither. `case_id`
    None: the action makes the case (its number is what `fn` returns)."""
    from keruen.api import audit

    def act(conn: Connection) -> T:
        me = operator(conn)
        result = fn(conn, me)
        subject = str(result if case_id is None else case_id)
        audit.write_cli(conn, audit.cli_actor(conn, me), action, subject, detail)
        return result

    return _case(db_url, act)


def case_open(
    alert_ids: Annotated[list[int], typer.Argument(help="Alert number(s)")],
    title: Annotated[str, typer.Option(help="Title")] = "",
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Open a case from alerts."""
    case_id = _act(
        db_url,
        "case.open",
        None,
        lambda c, me: cases.open_case(c, alert_ids, me, title),
        {"alerts": alert_ids},
    )
    emit_json({"case": case_id}) if as_json else out.print(f"case {case_id} opened")


CaseArg = Annotated[int, typer.Argument(help="Case number")]
ReasonOption = Annotated[str, typer.Option(help="Why")]


def case_assign(
    case_id: CaseArg,
    to: Annotated[str, typer.Argument(help="Officer (a user with the officer role)")],
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Assign a case to an officer."""
    _act(
        db_url,
        "case.assign",
        case_id,
        lambda c, me: cases.assign(c, case_id, to, me),
        {"officer": to},
    )
    out.print(f"case {case_id} assigned to {to}")


def case_note(
    case_id: CaseArg,
    text: Annotated[str, typer.Argument(help="The note")],
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Add a note (calls, documents seen) to a case."""
    _act(db_url, "case.note", case_id, lambda c, me: cases.note(c, case_id, text, me))
    out.print(f"note added to case {case_id}")


def case_attach(
    case_id: CaseArg,
    alert_ids: Annotated[list[int], typer.Argument(help="Alert number(s)")],
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Attach more alerts to an open case."""
    _act(
        db_url,
        "case.attach",
        case_id,
        lambda c, me: cases.attach(c, case_id, alert_ids, me),
        {"alerts": alert_ids},
    )
    out.print(f"{len(alert_ids)} alert(s) attached to case {case_id}")


def case_hold(
    case_id: CaseArg, reason: ReasonOption = "", db_url: Annotated[str | None, DbOption] = None
) -> None:
    """Hold the goods while the case is worked (a state, not a decision)."""
    _act(db_url, "case.hold", case_id, lambda c, me: cases.hold(c, case_id, me, reason))
    out.print(f"case {case_id}: goods held")


def case_inspect(
    case_id: CaseArg, reason: ReasonOption = "", db_url: Annotated[str | None, DbOption] = None
) -> None:
    """Start a physical inspection (record its findings before deciding)."""
    _act(db_url, "case.inspect", case_id, lambda c, me: cases.inspect(c, case_id, me, reason))
    out.print(f"case {case_id}: inspection started")


def case_findings(
    case_id: CaseArg,
    text: Annotated[str, typer.Argument(help="What the inspection found")],
    discrepancy: Annotated[
        bool, typer.Option("--discrepancy/--no-discrepancy", help="Goods differ from documents")
    ] = False,
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Record what the inspection found."""
    _act(
        db_url,
        "case.findings",
        case_id,
        lambda c, me: cases.findings(c, case_id, text, discrepancy, me),
        {"discrepancy": discrepancy},
    )
    out.print(f"case {case_id}: findings recorded")


def case_decide(
    case_id: CaseArg,
    decision: Annotated[str, typer.Argument(help=" | ".join(cases.DECISIONS))],
    reason: ReasonOption = "",
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Decide a case: release, confirmed_diversion or false_positive (hold and inspect are
    states: `case hold`, `case inspect`)."""
    guard(lambda: cases.check_decision(decision))
    _act(
        db_url,
        "case.decide",
        case_id,
        lambda c, me: cases.decide(c, case_id, decision, me, reason),
        {"decision": decision},
    )
    out.print(f"case {case_id}: {decision}")


def case_reopen(
    case_id: CaseArg,
    reason: Annotated[str, typer.Option(help="Why (required)")],
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Reopen a decided case; its decision stops counting in the outcome figures."""
    _act(db_url, "case.reopen", case_id, lambda c, me: cases.reopen(c, case_id, me, reason))
    out.print(f"case {case_id} reopened")


def case_show(
    case_id: Annotated[int, typer.Argument(help="Case number")],
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """A case: state, alerts and the audit log of every action."""
    case = _case(db_url, lambda c: cases.public_case(cases.show(c, case_id)))
    if as_json:
        emit_json(case)
        return
    out.print(
        f"[bold]case {case['id']}[/] {case['title']} — {case['status']}"
        + (f" ({case['decision']})" if case["decision"] else "")
        + (f", assigned to {case['assignee']}" if case["assignee"] else "")
        + (", goods held" if case["held"] else "")
    )
    for a in case["alerts"]:
        out.print(
            f"  alert {a['id']} {a['rule']} {a['score']:.2f}: {a['explanation']}", highlight=False
        )
    for act in case["actions"]:
        out.print(
            f"  {act['time']} {act['actor']} {act['action']} {act['detail']}", highlight=False
        )


def case_list(
    status: Annotated[str | None, typer.Option(help=" | ".join(cases.STATUSES))] = None,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Every case with its state."""
    rows = _case(db_url, lambda c: cases.cases(c, status))
    if as_json:
        emit_json(rows)
        return
    table = Table("case", "title", "status", "assignee", "decision", "alerts", "opened")
    for c in rows:
        table.add_row(
            str(c["id"]),
            c["title"],
            c["status"],
            c["assignee"] or "",
            c["decision"] or "",
            str(len(c["alerts"])),
            c["opened"][:16],
        )
    out.print(table)
