"""What every dashboard view shares: pages from templates, the signed-in user, forms with CSRF,
the audit, and errors shown as pages (never problem+json, never a traceback).

    @router.get("/alerts")
    def inbox(request: Request, user: PartyViewer, conn: ConnDep, audit: WebAudit) -> Response:
        ...
        return page(request, "alerts.html", rows=rows)

The views hold no logic of their own: they call the same service functions as the API and
the CLI, filter to a declarant's tenancy as the API does, and record the same audit entries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.engine import Connection
from starlette.responses import HTMLResponse, RedirectResponse, Response

from keruen.api.access import Can, Principal
from keruen.api.deps import AppState, Auditor, client_of
from keruen.api.errors import ApiError, Forbidden, PayloadTooLarge, Unauthorized
from keruen.errors import KeruenError, NotFound
from keruen.settings import get_settings
from keruen.store import partyindex
from keruen.store.port import LedgerReader
from keruen.web import i18n, sessions

log = logging.getLogger("keruen.web")

SESSION_COOKIE = "keruen_session"
LOGIN_COOKIE = "keruen_login"
LANG_COOKIE = "keruen_lang"
MAX_FORM = 64 * 1024

env = Environment(
    loader=PackageLoader("keruen.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# a border post of the home country, the first of its file, as a form's example
env.globals["example_post"] = lambda: next(iter(get_settings().jurisdiction.posts), "")


class SignInRequired(KeruenError):
    """No session, or an expired one: the view answers with the sign-in page."""

    status = 401


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.keruen
    return state


def lang_of(request: Request) -> str:
    return i18n.choose(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def viewer(request: Request) -> Principal | None:
    """The signed-in user of this request, looked up once."""
    if hasattr(request.state, "viewer"):
        found: Principal | None = request.state.viewer
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    found = None
    if cookie:
        with state_of(request).reader.connect() as conn:
            found = sessions.principal(conn, cookie)
    request.state.viewer = found
    return found


def secure_cookies(request: Request) -> bool:
    """Session cookies are Secure outside development (KERUEN_ENV)."""
    return state_of(request).settings.env != "development"


def context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = lang_of(request)
    user = viewer(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    return {
        "request": request,
        "lang": lang,
        "languages": i18n.NAMES,
        "loc": i18n.LOCALES[lang],
        "_": lambda message, **kw: i18n.gettext(lang, message).format(**kw),
        "user": user,
        "Can": Can,
        "csrf": sessions.csrf_token(cookie) if cookie and user else "",
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **extra,
    }


def page(request: Request, template: str, status: int = 200, **extra: Any) -> HTMLResponse:
    html = env.get_template(template).render(context(request, **extra))
    response = HTMLResponse(html, status)
    response.headers["Cache-Control"] = "no-store"  # party-level data stays out of caches
    return response


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of the dashboard (no open redirect)."""
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return "/ui/alerts"


def _error_page(request: Request, status: int, message: str) -> Response:
    return page(request, "error.html", status, status_code=status, message=message)


def web_error(request: Request, exc: Exception) -> Response:
    """Errors as pages: the sign-in page for no session, else the status and the reason."""
    if isinstance(exc, SignInRequired | Unauthorized) and request.method == "GET":
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/ui/login?next={target}", 303)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return _error_page(request, 422, f"{field}: {first.get('msg', 'invalid')}")
    if isinstance(exc, sa.exc.DBAPIError):
        log.error("database error: %s", exc)
        return _error_page(request, 503, "the database failed; nothing was written")
    if isinstance(exc, KeruenError) and (exc.status < 500 or isinstance(exc, ApiError)):
        return _error_page(request, exc.status, str(exc))
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, "internal error; it was logged")


class WebRoute(APIRoute):
    """A route whose errors become pages (the API's handlers answer problem+json)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return web_error(request, exc)

        return handle


# --- who is asking -----------------------------------------------------------------------


async def signed_in(request: Request) -> Principal:
    user = viewer(request)
    if user is None:
        raise SignInRequired("sign in to continue")
    return user


def needs(capability: Can) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def check(request: Request) -> Principal:
        user = await signed_in(request)
        if not user.can(capability):
            raise Forbidden(f"the {user.role} role may not {capability}")
        return user

    return check


Viewer = Annotated[Principal, Depends(signed_in)]
PartyViewer = Annotated[Principal, Depends(needs(Can.read_party))]
CaseViewer = Annotated[Principal, Depends(needs(Can.work_cases))]
AggregateViewer = Annotated[Principal, Depends(needs(Can.read_aggregates))]
AdminViewer = Annotated[Principal, Depends(needs(Can.manage))]


async def auditor(request: Request) -> Auditor:
    user = await signed_in(request)
    return Auditor(state_of(request).writer, user, client_of(request))


WebAudit = Annotated[Auditor, Depends(auditor)]


# --- forms ---------------------------------------------------------------------------------


async def read_form(request: Request) -> dict[str, list[str]]:
    """A urlencoded form (every value of every field), refused when too large or not UTF-8."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise PayloadTooLarge(f"a form of at most {MAX_FORM} bytes", "body")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise ApiError("the form is not UTF-8", "body") from None


async def csrf_form(request: Request) -> dict[str, list[str]]:
    """The form of a signed-in user, after its CSRF token is checked."""
    await signed_in(request)
    form = await read_form(request)
    sent = (form.get("csrf") or [request.headers.get("x-csrf-token", "")])[-1]
    if not sessions.csrf_ok(request.cookies.get(SESSION_COOKIE), sent):
        raise Forbidden("the form has expired or did not come from this site: reload the page")
    return form


Form = Annotated[dict[str, list[str]], Depends(csrf_form)]


def field(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[-1].strip() if values else default


def not_found(what: str) -> NotFound:
    """The refusal of something a declarant is not party to: worded as absence."""
    return NotFound(f"{what} does not exist")


def read_conn(request: Request) -> Iterator[Connection]:
    """A read connection: one consistent snapshot for the page."""
    with state_of(request).reader.connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(read_conn)]


def party_index(request: Request) -> None:
    """The party index (`keruen.store.partyindex`) brought toward the ledger's head when the
    head has moved, at most 50,000 events per request: a party's events are then read through
    the index (reads are complete either way: what it has not seen is matched directly)."""
    head = LedgerReader(state_of(request).reader).head()  # before `conn` reads anything:
    # its snapshot then begins after the refresh and sees it
    state = state_of(request)
    if state.extras.get("web.party-index") != head:
        partyindex.refresh(state.engine, most=50_000)
        state.extras["web.party-index"] = head


def kept(request: Request, name: str, version: object, compute: Callable[[], Any]) -> Any:
    """`compute()`, kept on the app until `version` changes (one value per name)."""
    extras = state_of(request).extras
    found = extras.get(f"web.{name}")
    if found is None or found[0] != version:
        found = (version, compute())
        extras[f"web.{name}"] = found
    return found[1]
