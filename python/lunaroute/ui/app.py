"""The web UI's RSGI application: its own listener (`ui.bind`), served by granian like the
metrics listener, in the process that serves that one (the supervisor when there are
workers).

Page work (SQLite, session files, templates) runs on two threads of the UI's own, never on
the event loop: in a one-process server that loop also proxies every client request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

import jinja2

from .. import __version__
from . import formatting, pages_activity, pages_status
from .auth import COOKIE, Session, Sessions, admin_keys, host_of, is_loopback_host, login_required
from .http import MAX_FORM_BYTES, Request, Response, login_location, redirect, safe_next
from .recordings import Recordings
from .rollup import Rollup

if TYPE_CHECKING:
    from ..rsgi import RsgiProtocol, RsgiScope
    from .host import GatewayHost

_T = TypeVar("_T")
# What a page function returns: a finished response, or (status, template, context).
_PageResult = Response | tuple[int, str, dict[str, Any]]

log = logging.getLogger("lunaroute.ui")

_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_SESSION_PAGE = re.compile(r"/sessions/([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(/raw)?")
_CONVERSATION_PAGE = re.compile(r"/conversations/([^/]{1,256})")
_NAV = (("/", "Overview"), ("/sessions", "Sessions"), ("/providers", "Providers"), ("/budgets", "Budgets & keys"))
_NAV_END = (("/config", "Config"),)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lunaroute.ui", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    return env


def _static() -> dict[str, tuple[bytes, str, str]]:
    """name → (body, content type, version): read once; the version busts caches."""
    out = {}
    root = resources.files("lunaroute.ui") / "static"
    for item in root.iterdir():
        suffix = os.path.splitext(item.name)[1]
        if suffix in _STATIC_TYPES:
            body = item.read_bytes()
            out[item.name] = (body, _STATIC_TYPES[suffix], hashlib.sha256(body).hexdigest()[:12])
    return out


class UiApp:
    def __init__(self, server: GatewayHost) -> None:
        self.server = server
        cfg = server.config
        self.bind_host = cfg.ui.host
        self.started_at = time.time()
        self.sessions = Sessions()
        self.recordings = Recordings(cfg.data_dir, cfg.storage.key_file)
        self.rollup = Rollup(str(self.recordings.index_path))
        self.templates = _templates()
        self.static = _static()
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="lunaroute-ui")
        self._own_limits: Any = None
        self._keys_seen: Any = None
        self._suggest: tuple[float, dict[str, list[str]]] = (0.0, {})
        if self.recordings.available():
            self.rollup.start()
        for _ in range(2):  # each worker thread: templates compiled, its reader open, before any page
            self._pool.submit(self._warm_up)

    def _warm_up(self) -> None:
        try:
            for name in self.templates.list_templates():
                self.templates.get_template(name)
            if self.recordings.available():
                self.recordings.reader()
        except Exception:
            log.warning("ui: warm-up failed", exc_info=True)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        pass

    async def aclose(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.recordings.close()
        if self._own_limits is not None:
            await self._own_limits.aclose()

    # ------------------------------------------------------------------ RSGI
    async def __call__(self, scope: RsgiScope, proto: RsgiProtocol) -> None:
        if scope.proto != "http":
            return
        try:
            response = await self._handle(scope, proto)
        except Exception:
            log.exception("ui: internal error on %s", scope.path)
            response = self._render(500, "error.html", {"title": "Internal error", "message": "See the server log."})
        proto.response_bytes(response.status, response.all_headers(), response.body)

    async def _handle(self, scope: RsgiScope, proto: RsgiProtocol) -> Response:
        path = scope.path
        if path.startswith("/static/") and scope.method in ("GET", "HEAD"):
            return self._serve_static(path[len("/static/") :])
        if path == "/favicon.ico":  # asked for by pages without a <link rel=icon> (the raw JSON view)
            return self._serve_static("favicon.svg")
        config = self.server.config
        if config.keys is not self._keys_seen:
            self._keys_seen = config.keys
            self.sessions.forget_failures()
        needs_login = login_required(self.bind_host, config.keys)
        if not needs_login and not is_loopback_host(host_of(scope.headers.get("host"))):
            return self._render(
                403,
                "error.html",
                {"title": "Forbidden", "message": "Open without a login, this UI answers loopback names only."},
            )
        body = b""
        if scope.method == "POST":
            length = scope.headers.get("content-length")
            if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
                return self._render(413, "error.html", {"title": "Too large", "message": "Form too large."})
            body = await proto()
        req = Request.from_scope(scope, body)
        if path == "/login":
            return await self._login(req, needs_login)
        if path == "/logout" and req.method == "POST":
            return self._logout(req)
        user: Session | None = None
        if needs_login:
            user = self.sessions.check(req.cookies.get(COOKIE), config.keys)
            if user is None:
                if req.method != "GET":
                    return self._render(403, "error.html", {"title": "Forbidden", "message": "Log in first."})
                full = path + (f"?{scope.query_string}" if scope.query_string else "")
                return redirect(login_location(full))
        if req.method not in ("GET", "HEAD"):
            return self._render(405, "error.html", {"title": "Method not allowed", "message": req.method})
        return await self._page(req, user)

    async def _page(self, req: Request, user: Session | None) -> Response:
        path = req.path
        if path == "/":
            return await self._threaded(pages_activity.overview, req, user, "/")
        if path == "/sessions":
            return await self._threaded(pages_activity.sessions, req, user, "/sessions")
        found = _SESSION_PAGE.fullmatch(path)
        if found:
            if found.group(2):
                return await self._run(pages_activity.raw, self, req, found.group(1))
            return await self._threaded(pages_activity.session, req, user, "/sessions", found.group(1))
        found = _CONVERSATION_PAGE.fullmatch(path)
        if found:
            return await self._threaded(pages_activity.conversation, req, user, "/sessions", found.group(1))
        if path == "/providers":
            return await self._threaded(pages_status.providers, req, user, "/providers")
        if path == "/budgets":
            snapshot, problem = await self._budget_snapshot()
            return await self._threaded(pages_status.budgets, req, user, "/budgets", snapshot, problem)
        if path == "/config":
            return await self._threaded(pages_status.config, req, user, "/config")
        return self._render(404, "error.html", {"title": "Not found", "message": path}, user=user)

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _threaded(
        self, fn: Callable[..., _PageResult], req: Request, user: Session | None, nav: str, *args: Any
    ) -> Response:
        def work() -> Response:
            started = time.perf_counter()
            result = fn(self, req, *args)
            if isinstance(result, Response):
                return result
            status, template, ctx = result
            ctx["page_ms"] = (time.perf_counter() - started) * 1000.0
            return self._render(status, template, ctx, user=user, nav=nav)

        return await self._run(work)

    # ------------------------------------------------------------------ rendering
    def _render(
        self, status: int, template: str, ctx: dict[str, Any], *, user: Session | None = None, nav: str = ""
    ) -> Response:
        base = {
            "nav": _NAV,
            "nav_end": _NAV_END,
            "active": nav,
            "user": user,
            "version": __version__,
            "static": {name: f"/static/{name}?v={v[2]}" for name, v in self.static.items()},
            "now": time.time(),
            "page_ms": None,
        }
        base.update(ctx)
        html = self.templates.get_template(template).render(base)
        return Response(status, html.encode())

    def _serve_static(self, name: str) -> Response:
        item = self.static.get(name)
        if item is None:
            return Response(404, b"not found\n", "text/plain; charset=utf-8")
        body, ctype, _ = item
        return Response(200, body, ctype, cache="public, max-age=86400")

    # ------------------------------------------------------------------ login
    async def _login(self, req: Request, needs_login: bool) -> Response:
        config = self.server.config
        target = safe_next(req.arg("next", "/"))
        if not needs_login:
            return redirect(target)
        ctx: dict[str, Any] = {"next": target, "error": None, "no_admin": not admin_keys(config.keys)}
        if req.method == "GET":
            return self._render(200, "login.html", ctx)
        if req.method != "POST":
            return self._render(405, "error.html", {"title": "Method not allowed", "message": req.method})
        if not req.same_origin():
            return self._render(403, "error.html", {"title": "Forbidden", "message": "Cross-site form post refused."})
        form = req.form()
        target = safe_next(form.get("next", "/"))
        credential = form.get("key", "").strip()
        lifetime = config.ui.session_hours * 3600.0
        found = await self._run(self.sessions.login, config.keys, credential, lifetime) if credential else None
        if found is None:
            ctx.update(next=target, error="That is not a key with the admin scope.")
            # 200, not 401: the form itself loaded fine (a browser logs every 4xx page as an error).
            return self._render(200, "login.html", ctx)
        token, session = found
        log.info("ui: admin login", extra={"fields": {"key_id": session.key_id}})
        cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={int(lifetime)}"
        response = redirect(target)
        response.headers.append(("set-cookie", cookie))
        return response

    def _logout(self, req: Request) -> Response:
        if req.same_origin():
            self.sessions.logout(req.cookies.get(COOKIE))
        response = redirect("/login")
        response.headers.append(("set-cookie", f"{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))
        return response

    # ------------------------------------------------------------------ server state
    def recording_state(self) -> dict[str, Any]:
        storage = self.server.config.storage
        rec = getattr(self.server, "recorder", None)
        state: dict[str, Any] = {"enabled": storage.sessions_enabled}
        if rec is not None:
            state.update(written=rec.written, errors=rec.errors, dropped=rec.dropped, queued=rec.queued)
        return state

    def metrics(self) -> dict[str, Any]:
        """The /metrics accumulators, merged over the workers when there are some."""
        from ..observability.metrics import merge_snapshots, read_worker_snapshots

        server = self.server
        directory = os.environ.get("LUNAROUTE_METRICS_DIR")
        if directory and not server.serve_clients:
            return merge_snapshots(read_worker_snapshots(directory))
        return merge_snapshots([server.metrics.snapshot()])

    def suggestions(self) -> dict[str, list[str]]:
        """Values for the search form's fields (refreshed at most once a minute)."""
        at, cached = self._suggest
        if time.monotonic() - at < 60.0 and cached:
            return cached
        config = self.server.config
        out: dict[str, list[str]] = {"provider": sorted(config.providers)}
        if self.recordings.available():
            for field, column in (("model", "model"), ("tenant", "tenant"), ("key", "key_id")):
                out[field] = self.recordings.distinct(column)
        out["key"] = sorted({*out.get("key", []), *(k.id for k in config.keys)})
        self._suggest = (time.monotonic(), out)
        return out

    async def _budget_snapshot(self) -> tuple[dict[str, Any] | None, str | None]:
        from ..limits import LimitsEngine
        from ..state import StateUnavailableError

        engine = self.server.limits
        if engine is None:
            # The supervisor of a multi-worker server serves no requests and so has no
            # engine: the UI reads the same shared store through one of its own.
            if self._own_limits is None:
                self._own_limits = LimitsEngine.from_config(self.server.config, self.server.config.data_dir)
            elif self._own_limits.config is not self.server.config:
                self._own_limits.apply_config(self.server.config)
            engine = self._own_limits
        try:
            await engine.refresh()
        except StateUnavailableError as exc:
            return engine.snapshot(), f"the state store is unreachable: {exc}"
        return engine.snapshot(), None
