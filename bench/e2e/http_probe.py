"""Single HTTP requests checked in Python: the per-scenario sanity check (status and a
well-formed answer of the ingress dialect, streams included) and the start-up probe."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time

from .scenarios import Scenario, request_body, request_headers, request_path


def one_request(
    port: int, path: str, body: bytes, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes, float]:
    """POST once on a fresh connection: (status, headers, body, seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        t0 = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, time.perf_counter() - t0
    finally:
        conn.close()


def stream_text(scen: Scenario, text: str) -> tuple[str, str | None]:
    """Assemble the answer text of an SSE body; returns (text, problem or None)."""
    content: list[str] = []
    for ln in text.splitlines():
        if not ln.startswith("data:"):
            continue
        payload = ln[5:].strip()
        if payload == "[DONE]":
            continue
        try:
            obj = json.loads(payload)
        except ValueError:
            return "", f"non-JSON SSE data: {payload[:200]}"
        if scen.dialect == "openai":
            if "error" in obj:
                return "", f"error event in stream: {payload[:300]}"
            for ch in obj.get("choices") or []:
                content.append((ch.get("delta") or {}).get("content") or "")
        else:
            if obj.get("type") == "error":
                return "", f"error event in stream: {payload[:300]}"
            if obj.get("type") == "content_block_delta":
                content.append((obj.get("delta") or {}).get("text", ""))
    return "".join(content), None


def json_text(scen: Scenario, text: str) -> tuple[str, str | None]:
    try:
        obj = json.loads(text)
        if scen.dialect == "openai":
            return obj["choices"][0]["message"]["content"] or "", None
        return "".join(b.get("text", "") for b in obj["content"] if b.get("type") == "text"), None
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return "", f"unexpected body ({type(e).__name__}): {text[:300]}"


def sanity_check(port: int, scen: Scenario, stream_prefix: str = "", api_key: str | None = None) -> dict:
    """One request; ok when the status is 200 and the body is a non-empty answer of the dialect."""
    try:
        status, headers, data, secs = one_request(
            port, request_path(scen, stream_prefix), request_body(scen), request_headers(scen, api_key)
        )
    except OSError as e:
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}
    text = data.decode("utf-8", "replace")
    info: dict = {
        "status": status,
        "content_type": headers.get("content-type"),
        "response_bytes": len(data),
        "seconds": round(secs, 4),
    }
    problem: str | None = None
    if status != 200:
        problem = f"status {status}: {text[:300]}"
    elif scen.stream and scen.marker not in text:
        problem = f"stream lacks {scen.marker!r}: {text[:300]}"
    else:
        answer, problem = stream_text(scen, text) if scen.stream else json_text(scen, text)
        info["text_chars"] = len(answer)
        if problem is None and not answer:
            problem = "empty answer"
    info["ok"] = problem is None
    if problem:
        info["error"] = problem
    return info


def wait_first_200(
    proc: subprocess.Popen, port: int, scen: Scenario, timeout_s: float, spawned_at: float, api_key: str | None = None
) -> tuple[float | None, float | None, str | None]:
    """From the spawn (a time.monotonic() value) until the first 200 to a real chat request:
    (seconds to first 200, seconds to port open, error). Polls every 20 ms for the port, then
    every 50 ms for a 200."""
    t0 = spawned_at
    port_open: float | None = None
    last = None
    path, body, headers = request_path(scen), request_body(scen), request_headers(scen, api_key)
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            return None, port_open, f"exited with code {proc.returncode} before answering"
        if port_open is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                port_open = time.monotonic() - t0
            except OSError:
                time.sleep(0.02)
                continue
        try:
            status, _, data, _ = one_request(port, path, body, headers, timeout=5.0)
            if status == 200:
                return time.monotonic() - t0, port_open, None
            last = f"status {status}: {data[:200]!r}"
        except OSError as e:
            last = f"{type(e).__name__}: {e}"
        time.sleep(0.05)
    return None, port_open, f"no 200 within {timeout_s}s (last: {last})"


def port_busy(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
        return True
    except OSError:
        return False
