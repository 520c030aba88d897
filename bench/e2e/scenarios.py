"""The benchmark scenarios: what each one sends, where, and what a good answer contains.

Every gateway gets the same ~430-byte request per scenario (a system prompt and one user
turn). Model names are those of bench/e2e/lunaroute-config and bench/e2e/litellm: `*-stream`
models route to the mock's `/stream` prefix, which answers with SSE. The bare mock cannot
read the model, so for `direct` the streaming scenarios use a `/stream/v1/...` path instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

SYSTEM = (
    "You are a concise assistant for a platform team. Answer in plain English, "
    "in at most three sentences, and name the main trade-off when there is one."
)
USER = (
    "We run an LLM gateway in front of two providers. Which numbers should we "
    "watch first to know whether the gateway itself adds noticeable latency?"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    dialect: str  # ingress dialect: "openai" | "anthropic"
    model: str
    stream: bool
    baseline: str  # the direct scenario it is compared with (the upstream's dialect)

    @property
    def translated(self) -> bool:
        return self.baseline.split("_")[0] != self.name.split("_")[0]

    @property
    def marker(self) -> str:
        """Substring every good response body holds (checked in the verification pass)."""
        return MARKERS[(self.dialect, self.stream)]


MARKERS = {
    ("openai", False): '"choices"',
    ("openai", True): "[DONE]",
    ("anthropic", False): '"content"',
    ("anthropic", True): "message_stop",
}

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("oai", "openai", "bench-gpt", False, "oai"),
        Scenario("oai_stream", "openai", "bench-gpt-stream", True, "oai_stream"),
        Scenario("anth", "anthropic", "bench-claude", False, "anth"),
        Scenario("anth_stream", "anthropic", "bench-claude-stream", True, "anth_stream"),
        Scenario("oai_to_anth", "openai", "bench-claude", False, "anth"),
        Scenario("oai_to_anth_stream", "openai", "bench-claude-stream", True, "anth_stream"),
        Scenario("anth_to_oai", "anthropic", "bench-gpt", False, "oai"),
        Scenario("anth_to_oai_stream", "anthropic", "bench-gpt-stream", True, "oai_stream"),
    )
}

# What each entry is measured on.
DIRECT_SCENARIOS = ("oai", "oai_stream", "anth", "anth_stream")
LUNAROUTE_SCENARIOS = tuple(SCENARIOS)
LITELLM_SCENARIOS = ("oai", "oai_stream", "anth", "anth_stream", "oai_to_anth", "oai_to_anth_stream")
# The Rust LunaRoute's dual-dialect mode is passthrough only: no translated scenarios.
RUST_PEER_SCENARIOS = DIRECT_SCENARIOS


def request_body(scen: Scenario) -> bytes:
    if scen.dialect == "openai":
        body: dict = {
            "model": scen.model,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
            "temperature": 0.2,
            "max_tokens": 256,
            "stream": scen.stream,
        }
    else:
        body = {
            "model": scen.model,
            "max_tokens": 256,
            "system": SYSTEM,
            "messages": [{"role": "user", "content": USER}],
            "temperature": 0.2,
            "stream": scen.stream,
        }
    return json.dumps(body, separators=(",", ":")).encode()


def request_path(scen: Scenario, stream_prefix: str = "") -> str:
    path = "/v1/chat/completions" if scen.dialect == "openai" else "/v1/messages"
    return stream_prefix + path if (scen.stream and stream_prefix) else path


def request_headers(scen: Scenario, api_key: str | None = None) -> dict[str, str]:
    """`api_key`: a LunaRoute client key (a config with keys); else the dummy provider key."""
    h = {"Content-Type": "application/json", "Accept": "text/event-stream" if scen.stream else "application/json"}
    if scen.dialect == "openai":
        h["Authorization"] = f"Bearer {api_key or 'sk-bench-dummy'}"
    else:
        h["x-api-key"] = api_key or "sk-ant-bench-dummy"
        h["anthropic-version"] = "2023-06-01"
    return h
