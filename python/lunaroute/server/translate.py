"""One translated stream, event by event: the stream-translation kernel (kernels `xlate`)
turns the deltas into the client's dialect, and the dialects' own decoder and encoder (the
reference state machines) handle every other event (`TranslatedStream`); or the reference
alone, when the events must be rewritten on the way (`ReferenceStream`).

After each event the reference handles, the kernel is told what the reference's state now
allows: the route of the open block's deltas (from the decoder's `fast_route`, the bytes
from the encoder's `delta_template`) and the ping. The output is byte for byte what
decoder + encoder alone would write (tests/kernels/test_kernel_xlate.py checks it on any
event sequence and any chunking, for every backend).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dialects import Dialect
from ..kernels import SseFramer, StreamTranslator


class TranslatedStream:
    __slots__ = ("_kernel", "_decoder", "_encoder", "_stream_usage", "_usage")

    def __init__(
        self, upstream: Dialect, decoder: Any, encoder: Any, usage: list[int], kernel: Any = StreamTranslator
    ) -> None:
        # `kernel`: the StreamTranslator class of the backend serving (tests pass each one)
        self._kernel: StreamTranslator = kernel(upstream.stream_source)
        self._decoder = decoder
        self._encoder = encoder
        self._stream_usage = upstream.stream_usage
        self._usage = usage  # [input, output], read from the events as the relay does
        self._refresh()

    @staticmethod
    def usable(decoder: Any, encoder: Any) -> bool:
        """Whether this decoder/encoder pair offers the kernel hooks (the Responses encoder,
        for one, does not: its streams go through the reference alone)."""
        return hasattr(decoder, "fast_route") and getattr(encoder, "ping", None) is not None

    def feed(self, chunk: bytes) -> bytes:
        """The client's bytes for one upstream chunk."""
        kernel = self._kernel
        kernel.feed(chunk)
        out, ev = kernel.next()
        if ev is None:
            return out  # the common case: the whole chunk was deltas
        parts = [out] if out else []
        decoder = self._decoder
        encoder = self._encoder
        while ev is not None:
            data = ev[1]
            if '"usage"' in data:
                self._stream_usage(data, self._usage)
            events = decoder.feed(ev[0], data)
            if events:
                parts.append(encoder.encode(events))
                self._refresh()
            out, ev = kernel.next()
            if out:
                parts.append(out)
        return b"".join(parts)

    def finish(self) -> bytes:
        """The closing bytes once the upstream body has ended."""
        last = self._decoder.finish()
        tail: bytes = self._encoder.encode(last) + self._encoder.finish()
        return tail

    def _refresh(self) -> None:
        kernel = self._kernel
        kernel.clear()
        decoder = self._decoder
        encoder = self._encoder
        if decoder.ended or encoder.done:
            return
        kernel.set_ping(encoder.ping)
        route = decoder.fast_route()
        if route is None:
            return
        key, index, kinds = route
        for kind in kinds:
            template = encoder.delta_template(index, kind)
            if template is not None:
                kernel.route(key, kind, *template)


class ReferenceStream:
    """A translated stream through the reference alone: every event decoded and encoded in
    Python. Taken when a `transform` rewrites the normalized events (PII tokens restored for
    the client) or the encoder has no fast path; with a transform, `shadow` (a second
    encoder) writes the events as the model gave them for `record`."""

    __slots__ = ("_framer", "_decoder", "_encoder", "_stream_usage", "_usage", "_transform", "_shadow", "_record")

    def __init__(
        self,
        upstream: Dialect,
        decoder: Any,
        encoder: Any,
        usage: list[int],
        transform: Any = None,
        shadow: Any = None,
        record: Callable[[bytes], None] | None = None,
    ) -> None:
        self._framer = SseFramer()
        self._decoder = decoder
        self._encoder = encoder
        self._stream_usage = upstream.stream_usage
        self._usage = usage
        self._transform = transform
        self._shadow = shadow
        self._record = record

    def feed(self, chunk: bytes) -> bytes:
        events = []
        decoder = self._decoder
        for ev in self._framer.feed(chunk):
            if '"usage"' in ev[1]:
                self._stream_usage(ev[1], self._usage)
            events.extend(decoder.feed(ev[0], ev[1]))
        if not events:
            return b""
        if self._transform is not None:
            if self._shadow is not None and self._record is not None:
                self._record(self._shadow.encode(events))
            events = self._transform.apply(events)
        out: bytes = self._encoder.encode(events)
        return out

    def finish(self) -> bytes:
        last = self._decoder.finish()
        if self._transform is not None:
            if self._shadow is not None and self._record is not None:
                self._record(self._shadow.encode(last) + self._shadow.finish())
            if last:
                last = self._transform.apply(last)
        tail: bytes = self._encoder.encode(last) + self._encoder.finish()
        return tail
