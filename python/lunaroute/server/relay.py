"""A streamed answer: relayed as the provider sends it (same dialect) or translated event by
event, and always ended properly.

Same-dialect streams are relayed chunk by chunk, untouched, except that events which exist
only to carry usage the client did not ask for are taken out (the dialect says which). A
stream that fails after its 200 (the upstream resets, stalls past its timeout, sends what
cannot be framed, or ends without its final event) ends with the client dialect's in-stream
error event, never silently.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from ..dialects import ClientDialect, Dialect, get_dialect
from ..dialects.base import USAGE_OBJECT_BYTES
from ..egress.errors import TransportError, TransportTimeout
from ..egress.upstream import Served
from ..errors import GatewayError, UpstreamError, UpstreamTimeoutError
from ..kernels import SseFramer
from ..model import NormalizedRequest
from ..observability.logs import log_event
from .answer import relay_headers
from .exchange import Exchange
from .translate import ReferenceStream, TranslatedStream

log = logging.getLogger("lunaroute.pipeline")
perf = time.perf_counter

_EVENT_END = re.compile(rb"\r\n\r\n|\n\n")
# A usage object in an event's bytes: the events worth decoding to ask the dialect.
_USAGE_OBJECT = USAGE_OBJECT_BYTES.search
_USAGE_OBJECT_ITER = USAGE_OBJECT_BYTES.finditer


class _ClientGone(Exception):
    """Writing to the client failed: it disconnected."""


class _Truncated(Exception):
    """The upstream ended its stream without the dialect's final event."""


def _event_data(block: bytes) -> str | None:
    """The data of one raw SSE event block (its `data:` lines joined), or None."""
    lines = [
        line[5:].removeprefix(b" ") for line in block.replace(b"\r\n", b"\n").split(b"\n") if line.startswith(b"data:")
    ]
    return b"\n".join(lines).decode("utf-8", "replace") if lines else None


def _without_usage_only(out: bytes, upstream: Dialect) -> bytes:
    """`out` (whole events only) without the events that exist only to carry usage. Runs on
    the one chunk per stream where the framer saw such an event. An OpenAI stream has
    `"usage": null` on every chunk; splitting a short answer's 30 events to ask about each
    cost ~120 µs, so with plain `\n\n` boundaries (what providers send) only the events
    holding a usage object are cut out and asked."""
    if b"\r" in out or b"\n\n\n" in out:
        return _without_usage_only_split(out, upstream)
    scratch = [0, 0]
    kept = []
    pos = 0  # out[:pos] is settled
    for m in _USAGE_OBJECT_ITER(out):
        at = m.start()
        if at < pos:
            continue  # inside an event already settled
        if b"\n\n" in out[at : m.end()]:
            return _without_usage_only_split(out, upstream)  # a match across two events
        start = out.rfind(b"\n\n", 0, at)
        start = 0 if start < 0 else start + 2
        end = out.find(b"\n\n", m.end())
        if end < 0:
            break  # an unterminated tail is never taken out
        end += 2
        data = _event_data(out[start:end])
        if data is not None and upstream.stream_usage(data, scratch):
            kept.append(out[pos:start])
        else:
            kept.append(out[pos:end])
        pos = end
    if not kept:
        return out
    kept.append(out[pos:])
    return b"".join(kept)


def _without_usage_only_split(out: bytes, upstream: Dialect) -> bytes:
    """The same, event by event: any mix of `\n\n` and `\r\n\r\n` boundaries."""
    scratch = [0, 0]
    kept = []
    pos = 0
    for m in _EVENT_END.finditer(out):
        block = out[pos : m.end()]
        pos = m.end()
        if _USAGE_OBJECT(block) is not None:
            data = _event_data(block)
            if data is not None and upstream.stream_usage(data, scratch):
                continue
        kept.append(block)
    kept.append(out[pos:])
    return b"".join(kept)


def _whole_events_end(buf: bytes) -> int:
    """Where the last complete event of `buf` ends (0 when none has)."""
    a = buf.rfind(b"\n\n")
    b = buf.rfind(b"\r\n\r\n")
    return max(a + 2 if a >= 0 else 0, b + 4 if b >= 0 else 0)


class StreamRelay:
    """Sends one streamed answer to the client; one per stream."""

    __slots__ = ("transport", "ex", "t0", "ttft", "capture", "sent_any", "at_boundary", "usage", "encoder")

    def __init__(
        self, transport: Any, ex: Exchange, t0: float, ttft: Any, capture: list[tuple[float, bytes]] | None
    ) -> None:
        self.transport = transport
        self.ex = ex
        self.t0 = t0
        self.ttft = ttft
        self.capture = capture  # (offset s, bytes) of everything sent, when recording
        self.sent_any = False
        self.at_boundary = True  # the bytes sent so far end between two events
        self.usage = [0, 0]
        self.encoder: Any = None  # a translated stream's encoder: its error event knows the stream

    async def send(self, data: bytes) -> None:
        try:
            await self.transport.send_bytes(data)
        except Exception:
            raise _ClientGone() from None
        self.at_boundary = data.endswith((b"\n\n", b"\r\n\r\n"))
        if not self.sent_any:
            self.sent_any = True
            self.ex.ttft_s = perf() - self.t0
            self.ttft.observe(self.ex.ttft_s)
        if self.capture is not None:
            self.capture.append((perf() - self.t0, data))

    def record(self, capture: list[tuple[float, bytes]] | None, data: bytes) -> None:
        if data and capture is not None:
            capture.append((perf() - self.t0, data))

    async def end_with_error(self, tail: bytes) -> None:
        """The last bytes of a failed stream; a half-sent event is closed first so the
        error is an event of its own."""
        if not self.at_boundary:
            tail = b"\n\n" + tail
        try:
            await self.transport.send_bytes(tail)
        except Exception:
            pass
        if self.capture is not None:
            self.capture.append((perf() - self.t0, tail))

    async def relay_same(self, served: Served, upstream: Dialect) -> None:
        framer = SseFramer()
        chunks: AsyncIterator[bytes] = served.body
        stream_usage = upstream.stream_usage
        usage = self.usage
        strip = served.strip_usage
        pending = b""
        last = None
        chunk = served.first_chunk
        assert chunk is not None
        while True:
            drop = False
            for ev in framer.feed(chunk):
                if '"usage"' in ev[1] and stream_usage(ev[1], usage):
                    drop = strip
                last = ev
            # Only whole events go out: an event can then be taken out without splitting
            # bytes, and a stream that fails mid-event never leaves the client half an
            # event glued to the error event. (Real providers end chunks on event
            # boundaries, so `pending` is almost always empty.)
            buf = pending + chunk if pending else chunk
            cut = _whole_events_end(buf)
            if cut == len(buf):
                out, pending = buf, b""
            else:
                out, pending = buf[:cut], buf[cut:]
            if drop:
                out = _without_usage_only(out, upstream)
            if out:
                await self.send(out)
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
        if pending:
            await self.send(pending)
        if last is None or not upstream.ends_stream(last):
            raise _Truncated()

    async def relay_translated(
        self,
        served: Served,
        upstream: Dialect,
        client: ClientDialect,
        normalized: NormalizedRequest | None,
        transform: Any = None,
    ) -> Any:
        assert normalized is not None
        chunks: AsyncIterator[bytes] = served.body
        decoder = upstream.stream_decoder()
        encoder = self.encoder = client.stream_encoder(model=served.up_model, request=normalized)
        capture = self.capture
        stream: TranslatedStream | ReferenceStream
        if transform is None and TranslatedStream.usable(decoder, encoder):
            stream = TranslatedStream(upstream, decoder, encoder, self.usage)
        else:
            # A recorded stream keeps the events as the model gave them (PII tokens, never
            # the values restored for the client): a second encoder writes those to the capture.
            shadow = None
            if transform is not None and capture is not None:
                shadow = client.stream_encoder(model=served.up_model, request=normalized)
                self.capture = None
            stream = ReferenceStream(
                upstream, decoder, encoder, self.usage, transform, shadow, lambda data: self.record(capture, data)
            )
        chunk = served.first_chunk
        assert chunk is not None
        try:
            while True:
                out = stream.feed(chunk)
                if out:
                    await self.send(out)
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
            tail = stream.finish()
            if tail:
                await self.send(tail)
        except (TransportError, _Truncated) as exc:
            raise _Failed(exc, encoder) from None
        finally:
            self.capture = capture


class _Failed(Exception):
    """A translated stream failed: carries the encoder that must write the error event."""

    def __init__(self, cause: BaseException, encoder: Any) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.encoder = encoder


def _stream_failure(cause: BaseException) -> GatewayError:
    if isinstance(cause, TransportTimeout):
        return UpstreamTimeoutError("upstream stream stalled past the provider timeout")
    if isinstance(cause, _Truncated):
        return UpstreamError("upstream stream ended before its final event")
    return UpstreamError("upstream stream broke off before it finished")


async def relay_stream(
    proto: Any,
    served: Served,
    client: ClientDialect,
    normalized: NormalizedRequest | None,
    resp_headers: list[tuple[str, str]],
    ex: Exchange,
    t0: float,
    ttft: Any,
    capture: list[tuple[float, bytes]] | None = None,
    transform: Any = None,
) -> None:
    """`transform` (e.g. PII token restoring) rewrites the normalized events, so a stream
    that has one goes through the decoder and encoder even on a same-dialect route."""
    up = served.response
    hdrs = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        *resp_headers,
        *relay_headers(up.headers),
    ]
    relay = StreamRelay(proto.response_stream(200, hdrs), ex, t0, ttft, capture)
    ex.status = 200
    upstream = get_dialect(served.provider.dialect)
    try:
        if served.same and transform is None:
            await relay.relay_same(served, upstream)
        else:
            await relay.relay_translated(served, upstream, client, normalized, transform)
    except _ClientGone:
        # The client left mid-stream: stop the upstream too; nothing more to say.
        up.close(abort=True)
        ex.status = 499
        ex.error = "client disconnected"
        log_event(log, logging.INFO, "client disconnected mid-stream", request_id=ex.request_id)
    except (TransportError, _Truncated, _Failed) as exc:
        up.close(abort=True)
        cause = exc.cause if isinstance(exc, _Failed) else exc
        err = _stream_failure(cause)
        ex.status = err.status
        ex.error = err.message
        log_event(
            log,
            logging.WARNING,
            "stream failed after start",
            request_id=ex.request_id,
            provider=ex.provider,
            reason=str(cause) or type(cause).__name__,
        )
        # The client already has a 200 and events: end in-stream, in its dialect.
        await relay.end_with_error(exc.encoder.error(err) if isinstance(exc, _Failed) else client.stream_error(err))
    except Exception:
        # A bug or a kernel refusal (e.g. an SSE line over the size cap) after the 200:
        # still end the stream properly, in the caller's dialect, and keep the traceback.
        up.close(abort=True)
        log.exception("stream failed after start (request %s)", ex.request_id)
        err = UpstreamError("the stream could not be relayed")
        ex.status = err.status
        ex.error = err.message
        await relay.end_with_error(relay.encoder.error(err) if relay.encoder is not None else client.stream_error(err))
    except BaseException:
        up.close(abort=True)
        raise
    finally:
        # granian ends the client's stream when the transport object goes away; drop our
        # reference now, whatever tracebacks may still point at this frame.
        relay.transport = None
    ex.input_tokens, ex.output_tokens = relay.usage
