"""The mock upstream HTTP/1.1 server (stdlib asyncio streams, no framework).

API routes, also served under an optional path prefix (e.g. `/openai/v1/...`):
  POST /v1/chat/completions         OpenAI dialect
  POST /v1/embeddings               OpenAI dialect (openai_embeddings.py)
  POST /v1/messages                 Anthropic dialect
  POST /v1/messages/count_tokens    Anthropic dialect
  GET  /v1/models[/<id>]            Anthropic shape when the request carries `anthropic-version`
                                    or `x-api-key`, else OpenAI shape
Control routes live under /_control/ (see control.py) and are never recorded or scripted.

Order of work for an API request: record it; take the first matching scripted behaviour;
hang; reset or scripted error/body; then route, auth, JSON parse, validation, and the
normal deterministic answer, sent whole (Content-Length) or as a paced chunked stream.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import sys
import traceback
from collections.abc import Iterable
from typing import Any

from .anthropic_endpoint import AnthropicDialect
from .behaviours import Behaviour
from .connection import Connection
from .control import PREFIX as CONTROL_PREFIX
from .control import handle_control
from .http11 import (
    LAST_CHUNK,
    MAX_HEADER_BYTES,
    HttpProtocolError,
    HttpRequest,
    chunk,
    read_request,
    response_head,
)
from .openai_embeddings import embeddings
from .openai_endpoint import OpenAIDialect
from .replies import JsonReply, StreamReply
from .state import MockState
from .stream_plan import Pause, stream_steps

Dialect = OpenAIDialect | AnthropicDialect

_ROUTES = {
    "/v1/chat/completions": ("chat", "POST"),
    "/v1/embeddings": ("embeddings", "POST"),
    "/v1/messages": ("messages", "POST"),
    "/v1/messages/count_tokens": ("count_tokens", "POST"),
    "/v1/models": ("models", "GET"),
}


class MockUpstreamServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        path_prefix: str = "",
        api_keys: Iterable[str] | None = None,
    ):
        self.host = host
        self.requested_port = port
        self.path_prefix = path_prefix.rstrip("/")
        if self.path_prefix and not self.path_prefix.startswith("/"):
            self.path_prefix = "/" + self.path_prefix
        keys = frozenset(api_keys) if api_keys is not None else None
        self.state = MockState()
        self.openai = OpenAIDialect(self.state, keys)
        self.anthropic = AnthropicDialect(self.state, keys)
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self.requested_port, limit=MAX_HEADER_BYTES
        )
        return self.port

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            try:  # from Python 3.12 this also waits for open keep-alive connections
                await asyncio.wait_for(self._server.wait_closed(), timeout=2)
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ connection loop
    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self.state.next_connection_id(), reader, writer)
        self.state.stats.bump("connections_total")
        self.state.stats.open_connections += 1
        try:
            while True:
                try:
                    request = await read_request(reader, writer)
                except HttpProtocolError as exc:
                    body = json.dumps({"error": exc.message}).encode()
                    await conn.send(
                        response_head(
                            exc.status,
                            [
                                ("content-type", "application/json"),
                                ("content-length", str(len(body))),
                                ("connection", "close"),
                            ],
                        )
                        + body
                    )
                    break
                if request is None:
                    break
                try:
                    if request.path.startswith(CONTROL_PREFIX):
                        keep = await self._serve_control(conn, request)
                    else:
                        keep = await self._serve_api(conn, request)
                except (ConnectionError, asyncio.CancelledError):
                    raise
                except Exception as exc:  # a bug in the mock: say so loudly, never hang the client
                    traceback.print_exc(file=sys.stderr)
                    body = json.dumps({"error": f"mock upstream internal error: {exc!r}"}).encode()
                    await conn.send(
                        response_head(
                            500,
                            [
                                ("content-type", "application/json"),
                                ("content-length", str(len(body))),
                            ],
                        )
                        + body
                    )
                    break
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Server shutdown cancels idle keep-alive handlers; this is the task's outermost
            # frame, so ending quietly here is the orderly way out.
            pass
        finally:
            self.state.stats.open_connections -= 1
            await conn.close()

    async def _serve_control(self, conn: Connection, request: HttpRequest) -> bool:
        self.state.stats.bump("control_requests_total")
        status, payload = handle_control(self.state, request)
        body = json.dumps(payload).encode()
        return await self._send_json(
            conn, request, JsonReply(status, payload, [("content-type", "application/json")]), body
        )

    # ------------------------------------------------------------------ API requests
    async def _serve_api(self, conn: Connection, request: HttpRequest) -> bool:
        parsed, json_ok = _parse_json(request.body)
        rec = self.state.record(
            conn.ident,
            request.method,
            request.path,
            request.query,
            request.headers,
            request.body,
            parsed,
        )
        self.state.stats.bump("requests_total")
        request_id = f"req_mock{rec.seq:06d}"
        route = self._route(request.path)
        dialect = self._dialect(route, request)
        model = parsed.get("model") if isinstance(parsed, dict) and isinstance(parsed.get("model"), str) else None
        taken = self.state.script.take(request.path, model)
        behaviour = taken or Behaviour()
        if taken is not None:
            rec.behaviour = taken.to_json()
        if behaviour.hang_ms and not await conn.pause(behaviour.hang_ms):
            self.state.stats.bump("hangs_aborted_by_peer")
            rec.outcome = "peer_closed_during_hang"
            return False
        if behaviour.reset:
            conn.reset()
            self.state.stats.bump("resets_sent")
            rec.outcome = "reset"
            return False
        reply = self._scripted_reply(behaviour, dialect, request_id)
        if reply is None:
            reply = self._answer(route, dialect, request, parsed, json_ok, request_id, behaviour)
        reply.headers.extend(behaviour.headers.items())
        rec.status = 200 if isinstance(reply, StreamReply) else reply.status
        self.state.stats.status(rec.status)
        if isinstance(reply, StreamReply):
            return await self._send_stream(conn, request, reply, behaviour, rec)
        body = reply.encoded()
        cut = behaviour.cut
        if cut is not None and cut[0] != "end":
            how, count = cut
            rec.response_body = body[:count]
            await conn.send(response_head(reply.status, self._json_headers(reply, body, request)) + body[:count])
            return await self._cut_short(conn, how, rec)
        if cut is not None:
            body = body[: cut[1]]  # a well-framed body that is only the start of the answer
        rec.response_body = body
        keep = await self._send_json(conn, request, reply, body)
        if cut is not None:
            self.state.stats.bump("streams_ended_by_script")
            rec.outcome = "ended_by_script"
        else:
            rec.outcome = "sent" if keep or not request.keep_alive else "peer_closed"
        return keep

    def _route(self, path: str) -> tuple[str, str | None, str] | None:
        """(kind, model_id, method) for an API path, or None."""
        for prefix in ("", self.path_prefix) if self.path_prefix else ("",):
            if prefix and not path.startswith(prefix + "/"):
                continue
            rel = path[len(prefix) :]
            if rel in _ROUTES:
                kind, method = _ROUTES[rel]
                return kind, None, method
            if rel.startswith("/v1/models/") and len(rel) > len("/v1/models/"):
                return "models", rel[len("/v1/models/") :], "GET"
        return None

    def _dialect(self, route: tuple[str, str | None, str] | None, request: HttpRequest) -> Dialect:
        if route is not None and route[0] in ("chat", "embeddings"):
            return self.openai
        if route is not None and route[0] in ("messages", "count_tokens"):
            return self.anthropic
        if request.header("anthropic-version") or request.header("x-api-key"):
            return self.anthropic
        return self.openai

    def _scripted_reply(self, behaviour: Behaviour, dialect: Dialect, request_id: str) -> JsonReply | None:
        reply: JsonReply | None = None
        if behaviour.body is not None:
            reply = JsonReply(behaviour.status, behaviour.body, dialect.headers(request_id))
        elif not 200 <= behaviour.status < 300:
            reply = dialect.error(
                behaviour.status,
                request_id,
                behaviour.message,
                error_type=behaviour.error_type,
                code=behaviour.code,
            )
        if reply is not None and behaviour.retry_after is not None:
            value = behaviour.retry_after
            reply.headers.append(("retry-after", str(int(value)) if float(value).is_integer() else str(value)))
        return reply

    def _answer(
        self,
        route: tuple[str, str | None, str] | None,
        dialect: Dialect,
        request: HttpRequest,
        parsed: Any,
        json_ok: bool,
        request_id: str,
        scripted: Behaviour,
    ) -> JsonReply | StreamReply:
        if route is None:
            return dialect.not_found(request, request_id)
        kind, model_id, method = route
        if request.method != method:
            return dialect.bad_method(request, request_id)
        denied = dialect.authenticate(request, request_id)
        if denied is not None:
            return denied
        if kind == "models":
            return dialect.models(request_id, model_id)
        if not json_ok:
            return dialect.bad_json(request_id)
        if kind == "embeddings":
            return embeddings(parsed, self.openai.headers(request_id))
        invalid = dialect.validate(kind, parsed, request_id)
        if invalid is not None:
            self.state.stats.bump("validation_errors")
            return invalid
        if kind == "chat":
            return self.openai.chat_completions(parsed, request_id, scripted)
        if kind == "messages":
            return self.anthropic.messages(parsed, request_id, scripted)
        return self.anthropic.count_tokens(parsed, request_id)

    # ------------------------------------------------------------------ sending
    @staticmethod
    def _common_headers(request: HttpRequest) -> list[tuple[str, str]]:
        headers = [("date", email.utils.formatdate(usegmt=True)), ("server", "mock-upstream")]
        if not request.keep_alive:
            headers.append(("connection", "close"))
        return headers

    def _json_headers(self, reply: JsonReply, body: bytes, request: HttpRequest) -> list[tuple[str, str]]:
        return reply.headers + [("content-length", str(len(body)))] + self._common_headers(request)

    async def _send_json(self, conn: Connection, request: HttpRequest, reply: JsonReply, body: bytes) -> bool:
        ok = await conn.send(response_head(reply.status, self._json_headers(reply, body, request)) + body)
        return ok and request.keep_alive

    async def _send_stream(
        self,
        conn: Connection,
        request: HttpRequest,
        reply: StreamReply,
        behaviour: Behaviour,
        rec: Any,
    ) -> bool:
        self.state.stats.bump("streams_started")
        headers = reply.headers + [("transfer-encoding", "chunked")] + self._common_headers(request)
        if not await conn.send(response_head(200, headers)):
            return self._peer_aborted(rec)
        # Kept as it goes, so that a test reading the record mid-stream (say, while a stall
        # waits for the peer to leave) sees what was written so far.
        rec.response_body = bytearray()
        for step in stream_steps(reply.events, behaviour):
            if isinstance(step, Pause):
                if not await conn.pause(step.ms):
                    return self._peer_aborted(rec)
                continue
            rec.response_body += step
            if not await conn.send(chunk(step)):
                return self._peer_aborted(rec)
        cut = behaviour.cut
        if cut is not None and cut[0] != "end":
            return await self._cut_short(conn, cut[0], rec)
        if not await conn.send(LAST_CHUNK):
            return self._peer_aborted(rec)
        if cut is not None:
            self.state.stats.bump("streams_ended_by_script")
            rec.outcome = "ended_by_script"
        else:
            self.state.stats.bump("streams_completed")
            rec.outcome = "sent"
        return request.keep_alive

    async def _cut_short(self, conn: Connection, how: str, rec: Any) -> bool:
        """End a body before its end: "die" closes (FIN), "reset" aborts with an RST."""
        if how == "reset":
            # What was sent must reach the peer first: an RST drops our unsent buffer.
            await conn.flush()
            conn.reset()
            self.state.stats.bump("resets_sent")
            rec.outcome = "reset"
        else:
            self.state.stats.bump("streams_died_by_script")
            rec.outcome = "cut_by_script"
        return False

    def _peer_aborted(self, rec: Any) -> bool:
        self.state.stats.bump("streams_aborted_by_peer")
        rec.outcome = "peer_closed_during_stream"
        return False


def _parse_json(body: bytes) -> tuple[Any, bool]:
    if not body:
        return None, False
    try:
        return json.loads(body.decode("utf-8")), True
    except (UnicodeDecodeError, ValueError):
        return None, False
