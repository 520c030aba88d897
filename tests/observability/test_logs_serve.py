"""The logs of a real `lunaroute serve` at level debug, after fuzzed keys and prompts went
through every kind of request (relayed, translated, streamed, refused, failed upstream,
failed mid-stream, malformed, bypassed, PII-redacted, recorded) and keys.json was edited:
no key, credential, key hash or prompt text in any line; every line a JSON object; one
access line per request, under the id the client got; audit lines for the reload and each
key created or deleted."""

from __future__ import annotations

import json
import random
import secrets
import time

import httpx
import pytest
from argon2 import PasswordHasher

from lunaroute.tenancy.keys import generate_key
from tests.integration.gateway import Gateway, provider, rule
from tests.mock_upstream.fixture import mock_upstream  # noqa: F401

_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_WRAPPERS = (
    "{}",
    "sk-{}",
    "sk-ant-api03-{}",
    "Bearer {}",
    "AKIA{}",
    "ghp_{}",
    'quote " and \\ backslash {}',
    "ünïcødé ✓ {} 日本語",
    "line\nbreak {}\ttab",
)


class Fuzz:
    """Secret-looking values, each with an ASCII core that must never reach the log."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.cores: list[str] = []

    def value(self) -> str:
        core = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))
        self.cores.append(core)
        return self.rng.choice(_WRAPPERS).format(core)

    def header(self) -> str:
        """A value HTTP lets through a header: printable ASCII, no edge spaces."""
        core = self.value()
        return core if core.isascii() and core.isprintable() and core == core.strip() else "sk-" + self.cores[-1]

    def prompt(self) -> str:
        words = [self.value() for _ in range(self.rng.randint(1, 3))]
        return f"please keep {' and '.join(words)} private, mail me at {self.value()}@example.com"


def _key(key_id: str, secret: str) -> dict:
    return {"id": key_id, "name": f"name-{key_id}", "key_hash": _HASHER.hash(secret), "tenant": "team-a"}


@pytest.fixture
def fuzz() -> Fuzz:
    return Fuzz(secrets.randbits(32))


def test_debug_logs_keep_no_secret_and_name_every_request(tmp_path, mock_upstream, fuzz):
    upstream_key = fuzz.header()
    client_key, other_key = generate_key(), generate_key()
    keys = [_key("k_main", client_key), _key("k_old", other_key)]
    key_env = {"api_key_env": "LR_TEST_UPSTREAM_KEY"}
    mock_url = mock_upstream.url
    providers = [
        provider("up-openai", "openai", mock_url, **key_env),
        provider("up-anthropic", "anthropic", mock_url, **key_env),
        provider("anth-own-key", "anthropic", mock_url),  # the client's own provider key goes up
    ]
    rules = [
        rule("own", "openai", "claude-haiku-4-5", "anth-own-key", priority=5),
        rule("translated", "openai", "claude-*", "up-anthropic", priority=10),
        rule("oai", "openai", "*", "up-openai", priority=20),
        rule("anth", "anthropic", "*", "up-anthropic", priority=30),
    ]
    gw = Gateway(
        tmp_path,
        providers,
        rules,
        keys=keys,
        env={"LR_TEST_UPSTREAM_KEY": upstream_key},
        storage={"sessions": {"enabled": True}},
        sections={"pii": {"enabled": True, "detectors": ["email"]}},
    ).start(log_level="debug")
    ids: list[str] = []
    oai = {"authorization": f"Bearer {client_key}"}

    def chat(url: str, body: dict | bytes, headers: dict, stream: bool = False) -> httpx.Response:
        kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
        with httpx.Client(timeout=15) as client:
            with client.stream("POST", url, headers=headers, **kwargs) as r:
                r.read()
        ids.append(r.headers["x-lunaroute-request-id"])
        return r

    def oai_body(model: str, stream: bool = False) -> dict:
        tool_args = {"type": "function", "function": {"name": "save", "parameters": {"type": "object"}}}
        return {
            "model": model,
            "stream": stream,
            "messages": [
                {"role": "system", "content": fuzz.prompt()},
                {"role": "user", "content": fuzz.prompt()},
            ],
            "tools": [tool_args],
        }

    chat_url = gw.openai_url + "/v1/chat/completions"
    try:
        assert chat(chat_url, oai_body("gpt-4o"), oai).status_code == 200
        assert chat(chat_url, oai_body("gpt-4o", stream=True), oai).status_code == 200
        assert chat(chat_url, oai_body("claude-sonnet-4-5", stream=True), oai).status_code == 200
        own = {**oai, "x-api-key": fuzz.header()}
        assert chat(chat_url, oai_body("claude-haiku-4-5"), own).status_code == 200
        anth = {"x-api-key": client_key, "anthropic-version": "2023-06-01"}
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": fuzz.prompt()}],
        }
        assert chat(gw.anthropic_url + "/v1/messages", body, anth).status_code == 200
        # refused: an unknown key that looks like one
        wrong = {"authorization": f"Bearer {generate_key()}{fuzz.header()}"}
        assert chat(chat_url, oai_body("gpt-4o"), wrong).status_code == 401
        # the provider's errors echo the prompt back
        mock_upstream.script([{"path": "/v1/chat/completions", "status": 400, "message": fuzz.prompt()}])
        assert chat(chat_url, oai_body("gpt-4o"), oai).status_code == 400
        mock_upstream.script([{"path": "/v1/chat/completions", "status": 500, "message": fuzz.prompt()}])
        assert chat(chat_url, oai_body("gpt-4o"), oai).status_code == 502
        # a stream that breaks after its first events
        mock_upstream.script([{"path": "/v1/chat/completions", "stream_die_after": 2, "text": fuzz.prompt()}])
        assert chat(chat_url, oai_body("gpt-4o", stream=True), oai).status_code == 200
        # malformed and invalid bodies that carry secrets
        assert chat(chat_url, f'{{"model": "gpt-4o", "x": "{fuzz.value()}'.encode(), oai).status_code == 400
        bad_role = {"model": "gpt-4o", "messages": [{"role": fuzz.value(), "content": fuzz.prompt()}]}
        assert chat(chat_url, bad_role, oai).status_code == 400
        # bypassed: query string and headers the client chose
        with httpx.Client(timeout=15) as client:
            r = client.post(
                gw.openai_url + "/v1/embeddings",
                params={"token": fuzz.value()},
                json={"model": "text-embedding-3-small", "input": fuzz.prompt()},
                headers={**oai, "x-custom-secret": fuzz.header()},
            )
        assert r.status_code == 200, r.text
        # keys.json edited: one key created, one deleted
        gw.write_keys([keys[0], _key("k_new", generate_key())])
        deadline = time.monotonic() + 10
        while "key created" not in gw.logs() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        assert gw.stop() == 0, gw.logs()
    text = gw.logs()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert any(line["level"] == "debug" for line in lines)  # debug really was on

    leaked = [core for core in fuzz.cores if core in text]
    assert leaked == [], [line for line in text.splitlines() if any(c in line for c in leaked)][:5]
    for secret in (client_key, other_key, upstream_key):
        assert secret not in text
    assert "$argon2" not in text  # no key hash either
    for core in ("please keep", "@example.com"):
        assert core not in text

    access = [line for line in lines if line["logger"] == "lunaroute.access"]
    assert [a["request_id"] for a in access] == ids
    assert [a["status"] for a in access] == [200, 200, 200, 200, 200, 401, 400, 502, 502, 400, 400]
    first = access[0]
    assert first["method"] == "POST" and first["path"] == "/v1/chat/completions" and first["listener"] == "openai"
    assert first["provider"] == "up-openai" and first["model"] == "gpt-4o" and first["attempts"] == 1
    assert first["input_tokens"] > 0 and first["output_tokens"] > 0 and first["latency_ms"] > 0
    assert access[2]["stream"] is True and access[2]["provider"] == "up-anthropic"
    assert access[6]["error"] == "upstream" and access[6]["provider"] == "up-openai"  # a relayed 4xx
    assert access[7]["error"] == "api_error" and access[7]["attempts"] == 1
    assert access[8]["error"] == "stream_failed"
    # lines logged inside a request carry its id
    in_requests = [line for line in lines if line["logger"] in ("lunaroute.pipeline", "lunaroute.ingress")]
    assert in_requests and all(line.get("request_id") in ids for line in in_requests)
    bypass = [line for line in lines if line.get("msg") == "bypass served"]
    assert len(bypass) == 1 and bypass[0]["path"] == "/v1/embeddings" and "?" not in json.dumps(bypass[0])

    audit = [line for line in lines if line["logger"] == "lunaroute.audit"]
    assert [a["event"] for a in audit] == ["config_reload", "key_created", "key_deleted"], audit
    assert audit[0]["changed"] == ["keys"] and audit[0]["keys"] == 2
    assert audit[1]["key_id"] == "k_new" and audit[1]["tenant"] == "team-a" and audit[1]["name"] == "name-k_new"
    assert audit[2]["key_id"] == "k_old"
