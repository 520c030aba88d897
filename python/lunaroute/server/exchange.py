"""One proxied exchange as the observers (metrics, logs, and later session recording) see it."""

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
    response_body: bytes | None = None
    prompt_patches: tuple[str, ...] = ()  # ids of the prompts.json patches applied, in order
