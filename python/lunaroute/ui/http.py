"""Requests and responses of the UI listener (RSGI), and the headers every answer carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

if TYPE_CHECKING:
    from ..rsgi import RsgiScope

MAX_FORM_BYTES = 64 * 1024

# No inline script or style anywhere: the pages need nothing the CSP would have to allow.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)
HTML = "text/html; charset=utf-8"


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # granian's RSGIHeaders
    body: bytes = b""
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_scope(cls, scope: RsgiScope, body: bytes = b"") -> Request:
        return cls(
            method=scope.method,
            path=scope.path,
            query=_flat(parse_qs(scope.query_string or "", keep_blank_values=False)),
            headers=scope.headers,
            body=body,
            cookies=_cookies(scope.headers.get("cookie")),
        )

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, default).strip()

    def form(self) -> dict[str, str]:
        return _flat(parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def same_origin(self) -> bool:
        """A form post from one of our own pages (browsers send Origin on every POST)."""
        origin = self.headers.get("origin")
        if origin is None:
            return True  # not a browser (SameSite=Strict cookies cover browsers that omit it)
        return urlsplit(origin).netloc == (self.headers.get("host") or "")


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)
    cache: str = "no-store"

    def all_headers(self) -> list[tuple[str, str]]:
        return [
            ("content-type", self.content_type),
            ("cache-control", self.cache),
            *SECURITY_HEADERS,
            *self.headers,
        ]


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, b"", headers=[("location", location)])


def login_location(path_and_query: str) -> str:
    return "/login?next=" + quote(path_and_query, safe="")


def safe_next(value: str) -> str:
    """Only a path of this site: never `//host` or `http://…` (an open redirect)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _flat(parsed: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[-1] for k, v in parsed.items()}


def _cookies(header: str | None) -> dict[str, str]:
    if not header:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}
