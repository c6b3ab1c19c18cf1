"""Signing in and out, and choosing the language."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from keruen.api.deps import client_of
from keruen.api.errors import Forbidden
from keruen.web import i18n, sessions
from keruen.web.core import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Form,
    WebRoute,
    field,
    page,
    read_form,
    safe_next,
    secure_cookies,
    state_of,
    viewer,
)

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
Next = Annotated[str | None, Query(alias="next", max_length=2000)]


def _login_page(request: Request, target: str, error: str = "", status: int = 200) -> Response:
    pre = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        status,
        next=target,
        error=error,
        login_csrf=sessions.csrf_token(pre),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        pre,
        max_age=600,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/ui/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, target: Next = None) -> Response:
    return _login_page(request, safe_next(target))


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the name and password; a session cookie and the page asked for, or the form again."""
    form = await read_form(request)
    target = safe_next(field(form, "next"))
    if not sessions.csrf_ok(request.cookies.get(LOGIN_COOKIE), field(form, "csrf")):
        return _login_page(request, target, "the form has expired: try again", 403)
    state = state_of(request)

    def open_session() -> sessions.NewSession | None:
        with state.engine.begin() as conn:
            return sessions.sign_in(
                conn,
                field(form, "username"),
                field(form, "password"),
                state.settings.session_ttl_s,
                client_of(request),
            )

    new = await run_in_threadpool(open_session)
    if new is None:
        return _login_page(request, target, sessions.REFUSED, 401)
    response = RedirectResponse(target, 303)
    response.set_cookie(
        SESSION_COOKIE,
        new.cookie,
        max_age=state.settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/ui",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with state_of(request).engine.begin() as conn:
        sessions.sign_out(conn, cookie)
    response = RedirectResponse("/ui/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


@router.get("/lang/{code}")
def language(request: Request, code: str, target: Next = None) -> Response:
    """Remember the user's language for a year; back to the page it was chosen on."""
    if code not in i18n.LANGUAGES:
        raise Forbidden(f"one of {', '.join(i18n.LANGUAGES)}", "language")
    response = RedirectResponse(safe_next(target), 303)
    response.set_cookie(
        LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", secure=secure_cookies(request)
    )
    return response


@router.get("")
@router.get("/")
def home(request: Request) -> Response:
    """The landing page of the signed-in user's role."""
    user = viewer(request)
    if user is None:
        return RedirectResponse("/ui/login", 303)
    return RedirectResponse(
        {"admin": "/ui/admin", "analyst": "/ui/outcomes", "declarant": "/ui/stock"}.get(
            user.role.value, "/ui/alerts"
        ),
        303,
    )
