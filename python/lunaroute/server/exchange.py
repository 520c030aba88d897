"""One proxied exchange as the observers (metrics, logs, session recording) see it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Exchange:
    request_id: str
    listener: str
    dialect: str
    request_model: str
    provider: str
    model: str
    stream: bool
    attempts: int = 1
    fallbacks_tried: int = 0
    key_id: str | None = None
    tenant: str | None = None
    status: int = 0
    error: str | None = None
    latency_s: float = 0.0
    ttft_s: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_cents: float = 0.0  # from the price table (limits/prices.json + config `pricing`)
    response_body: bytes | None = None
    prompt_patches: tuple[str, ...] = ()  # ids of the prompts.json patches applied, in order
    # Filled only when sessions are recorded (the recorder reads them on its own thread):
    session_id: str | None = None
    conversation_id: str | None = None  # the client's `x-session-id`; else the recorder reads metadata
    request_body: bytes | None = None  # as the client sent it (after PII redaction)
    stream_chunks: list[tuple[float, bytes]] | None = None  # what the client was sent, with offsets
    fallbacks: list[tuple[str, str | None, str]] | None = None  # every attempt: provider, model, outcome
