"""The chat pipeline: one client request, stage by stage.

    authenticate → parse → prompt patches → route → upstream call → attempts → answer | stream → observe

Each stage is a call into the module that owns it (tenancy, the client's dialect, routing,
egress, server/answer.py and server/relay.py, observability); this file only wires them and
reads no wire format itself. Same-dialect routes never re-serialize (but for a body a
prompts.json patch rewrote): the raw body goes upstream with the model spliced, and the
upstream bytes come back untouched (streams chunk by chunk as they arrive).
docs/ARCHITECTURE.md names the seams where rate limits and budgets (after authenticate), PII
redaction (after parse, beside prompt patches) and recording (observe) plug in.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from ..dialects import client_dialect, is_provider_dialect, listener_type_of
from ..egress.upstream import Served, UpstreamCall
from ..errors import GatewayError, NotFoundError
from ..recording import new_session_id
from ..routing import AttemptLog, RouteDecision, RouteRequest, run_attempts
from .answer import answer
from .exchange import Exchange
from .pii_answers import EventRestorer
from .relay import relay_stream
from .request_body import parse_object

perf = time.perf_counter


class ChatPipeline:
    """Runs one chat request for one listener and dialect. Built once per config load."""

    def __init__(self, state: Any, listener: Any, dialect_name: str) -> None:
        self.state = state
        self.listener = listener
        self.dialect = client_dialect(dialect_name)
        # What rules bound to a listener type see: the type whose dialects include this one.
        self.listener_type = listener_type_of(dialect_name)
        # A dialect no provider speaks is translated for every target.
        self.always_translated = not is_provider_dialect(dialect_name)
        self.security_headers = state.security_headers(listener)

    async def run(
        self,
        proto: Any,
        headers: Mapping[str, str],
        body: bytes,
        request_id: str,
        t0: float,
        query: str = "",
        trace: Any = None,
    ) -> Exchange:
        """Serve one request; the exchange it became (errors are raised as GatewayError).
        `trace`: the request's observability/tracing.py RequestTrace, None when tracing is off."""
        st = self.state
        # Who is asking comes first: an unknown client learns nothing about validation.
        key = await st.auth.authenticate(headers, self.dialect) if st.auth.required else None
        data, model, stream = self.parse(body)
        limits = st.limits
        ticket = await limits.admit(key, model) if limits is not None else None
        route_model = model if ticket is None or ticket.reroute_model is None else ticket.reroute_model
        t_ingress = perf()
        recorder = st.recorder
        session_id = new_session_id() if recorder is not None else None
        attempts = AttemptLog()
        decision = None
        try:
            decision = self.route(headers, key, data, route_model)
            if st.pii is not None and decision.options.pii:
                body = self.redact(body, data)
            up_body, up_data, patch_ids = self.patch_prompts(headers, key, body, data, model)
            if patch_ids:  # rules may test what a patch changed
                decision = self.route(headers, key, up_data, route_model)
            t_route = perf()
            call = self.upstream_call(decision, headers, key, up_body, up_data, model, stream)
            call.query = query
            call.route_model = route_model
            call.trace = trace
            t_norm = perf()
            served, _ = await run_attempts(
                decision,
                lambda target, n: st.upstream.exchange(call, target, n),
                breakers=st.breakers,
                max_retries_for=st.provider_max_retries,
                policy=st.retry_policy,
                log=attempts,
            )
        except GatewayError as err:
            self.count_attempts(attempts)
            err.attempts = attempts.attempts
            if recorder is not None:
                if st.pii is not None and decision is None:  # no rule to opt out: recorded redacted
                    body = self.redact(body, data)
                self.record_failure(request_id, session_id, key, headers, body, model, stream, attempts, err, t0)
            raise
        t_egress = perf()
        self.count_attempts(attempts)
        ex = self.exchange(request_id, key, model, stream, served, attempts)
        ex.prompt_patches = patch_ids
        resp_headers = self.response_headers(request_id, served, attempts)
        capture = None
        if session_id is not None:
            capture = self.prepare_recording(ex, session_id, headers, body, attempts, stream)
            resp_headers.append(("x-lunaroute-session-id", session_id))
        restore = st.pii if st.pii is not None and st.pii.restores and decision.options.pii else None
        if restore is not None and call.normalized is None:
            call.normalized = self.dialect.parse_request(up_data)  # the stream is re-encoded
        if stream:
            await relay_stream(
                proto,
                served,
                self.dialect,
                call.normalized,
                resp_headers,
                ex,
                t0,
                st.metrics.ttft,
                capture,
                EventRestorer(restore) if restore is not None else None,
            )
            t_end = perf()
            egress_s = t_end - t_egress
        else:
            answer(proto, served, self.dialect, call.normalized, resp_headers, ex, restore)
            t_end = perf()
            egress_s = t_egress - t_norm
        ex.latency_s = t_end - t0
        st.metrics.served(
            self.listener.id,
            ex.provider,
            ex.model,
            ex.status,
            t_ingress - t0,
            t_route - t_ingress,
            t_norm - t_route,
            egress_s,
            ex.latency_s,
            ex.input_tokens,
            ex.output_tokens,
        )
        if ticket is not None:
            ex.cost_cents = await limits.settle(ticket, ex.provider, ex.model, ex.input_tokens, ex.output_tokens)
        else:
            ex.cost_cents = st.prices.cost_cents(ex.model, ex.input_tokens, ex.output_tokens, provider=ex.provider)
        st.metrics.cost(ex.provider, ex.model, ex.cost_cents)
        if trace is not None:
            trace.served(ex, t0, t_ingress, t_route, t_norm, t_end)
        st.observe(ex, data)
        return ex

    # ------------------------------------------------------------------ stages
    def parse(self, body: bytes) -> tuple[dict[str, Any], str, bool]:
        """The body as a JSON object, with the checks every request of the dialect gets
        (the full parse waits until a target speaks another dialect)."""
        data = parse_object(body)
        model, stream = self.dialect.validate_light(data)
        return data, model, stream

    def redact(self, body: bytes, data: dict[str, Any]) -> bytes:
        """PII redaction of every text the client sent, in `data` itself: what goes upstream
        and what is recorded is the redacted form. The body is re-serialized only when
        something was redacted; otherwise the client's bytes go on untouched."""
        if self.state.pii.redact_json(data):
            return orjson.dumps(data)
        return body

    def patch_prompts(
        self, headers: Mapping[str, str], key: Any, body: bytes, data: dict[str, Any], model: str
    ) -> tuple[bytes, dict[str, Any], tuple[str, ...]]:
        """prompts.json (lunaroute/prompts): the body and data to send on, and the ids of the
        patches applied. Unpatched, the client's bytes go on untouched; patched, the body is
        re-serialized once here. `data` itself stays as the client sent it (recording)."""
        patches = self.state.config.prompts
        if not patches:
            return body, data, ()
        req = RouteRequest(
            self.listener.id,
            self.listener_type,
            model,
            headers,
            key.id if key else None,
            key.tenant if key else None,
            data,
        )
        done = patches.apply(self.dialect, req, data)
        return (body, data, ()) if done is None else (done.body, done.data, done.ids)

    def route(self, headers: Mapping[str, str], key: Any, data: dict[str, Any], model: str) -> RouteDecision:
        decision: RouteDecision | None = self.state.routes.decide(
            RouteRequest(
                listener_id=self.listener.id,
                listener_type=self.listener_type,
                model=model,
                headers=headers,
                key_id=key.id if key else None,
                tenant=key.tenant if key else None,
                body=data,
            )
        )
        if decision is None:
            raise NotFoundError(f"no route for model '{model}' on listener '{self.listener.id}'", param="model")
        return decision

    def upstream_call(
        self,
        decision: RouteDecision,
        headers: Mapping[str, str],
        key: Any,
        body: bytes,
        data: dict[str, Any],
        model: str,
        stream: bool,
    ) -> UpstreamCall:
        """What every attempt shares. A request some target must receive translated is parsed
        strictly once, up front, so a bad request is a 400 before any upstream is tried."""
        dialect = self.dialect
        providers = self.state.providers
        normalized = dialect.parse_request(data) if self.always_translated else None
        if normalized is None:
            for tgt in (decision.primary, *decision.fallbacks):
                prov = providers.get(tgt.provider)
                if prov is not None and prov.dialect != dialect.name:
                    normalized = dialect.parse_request(data)
                    break
        credential = self.state.auth.upstream_credential(headers, dialect, key)
        return UpstreamCall(
            dialect, body, data, model, stream, headers, credential, decision.options.timeout_ms, normalized
        )

    def exchange(
        self, request_id: str, key: Any, model: str, stream: bool, served: Served, attempts: AttemptLog
    ) -> Exchange:
        return Exchange(
            request_id=request_id,
            listener=self.listener.id,
            dialect=self.dialect.name,
            request_model=model,
            provider=served.target.provider,
            model=served.up_model,
            stream=stream,
            attempts=len(attempts.attempts),
            fallbacks_tried=attempts.fallbacks_tried,
            key_id=key.id if key else None,
            tenant=key.tenant if key else None,
        )

    def count_attempts(self, attempts: AttemptLog) -> None:
        """Attempts and fallbacks, whether a target served or every one failed."""
        metrics = self.state.metrics
        for provider, _, outcome in attempts.attempts:
            metrics.attempt(provider, outcome)
        if attempts.fallbacks_tried:
            metrics.fallbacks.inc(attempts.fallbacks_tried)

    def prepare_recording(
        self,
        ex: Exchange,
        session_id: str,
        headers: Mapping[str, str],
        body: bytes,
        attempts: AttemptLog,
        stream: bool,
    ) -> list[tuple[float, bytes]] | None:
        """Fill what only a recorded exchange needs; returns the stream capture list."""
        ex.session_id = session_id
        # The client's own conversation id: `x-session-id`, or Claude Code's session header
        # (the recorder falls back to the session in Claude Code's metadata.user_id).
        ex.conversation_id = headers.get("x-session-id") or headers.get("x-claude-code-session-id") or None
        ex.request_body = body
        ex.fallbacks = list(attempts.attempts)
        if stream:
            ex.stream_chunks = []
            return ex.stream_chunks
        return None

    def record_failure(
        self,
        request_id: str,
        session_id: str | None,
        key: Any,
        headers: Mapping[str, str],
        body: bytes,
        model: str,
        stream: bool,
        attempts: AttemptLog,
        err: GatewayError,
        t0: float,
    ) -> None:
        """A request that got no answer from any provider is a session too (its error, and
        every attempt with its outcome)."""
        tried = [a for a in attempts.attempts if a[2] != "circuit_open"] or attempts.attempts
        provider, up_model = (tried[-1][0], tried[-1][1] or model) if tried else ("", model)
        ex = Exchange(
            request_id=request_id,
            listener=self.listener.id,
            dialect=self.dialect.name,
            request_model=model,
            provider=provider,
            model=up_model,
            stream=stream,
            attempts=len(attempts.attempts),
            fallbacks_tried=attempts.fallbacks_tried,
            key_id=key.id if key else None,
            tenant=key.tenant if key else None,
            status=err.status,
            error=err.message,
            latency_s=perf() - t0,
        )
        self.prepare_recording(ex, session_id or new_session_id(), headers, body, attempts, False)
        err.session_id = ex.session_id
        self.state.observe(ex, None)

    def response_headers(self, request_id: str, served: Served, attempts: AttemptLog) -> list[tuple[str, str]]:
        return [
            ("x-lunaroute-request-id", request_id),
            ("x-lunaroute-provider", served.target.provider),
            ("x-lunaroute-model", served.up_model),
            ("x-lunaroute-attempts", str(len(attempts.attempts))),
            *self.security_headers,
        ]
