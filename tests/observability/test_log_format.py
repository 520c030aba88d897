"""Log line formats on real streams: JSON lines into a file or pipe, text with a coloured
level on a terminal (a real pseudo-terminal), the request id from the context, and the
HTTP libraries kept quiet below warning."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest

from lunaroute.observability.logs import (
    JsonFormatter,
    TextFormatter,
    formatter_for,
    log_access,
    log_event,
    request_id_var,
    setup_logging,
)


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_auto_is_text_on_a_terminal_and_json_elsewhere():
    primary, secondary = os.openpty()
    try:
        with os.fdopen(secondary, "w", closefd=False) as tty:
            assert isinstance(formatter_for("auto", tty), TextFormatter)
            assert formatter_for("auto", tty).colour is True
            assert isinstance(formatter_for("json", tty), JsonFormatter)
    finally:
        os.close(primary)
        os.close(secondary)
    pipe = io.StringIO()
    assert isinstance(formatter_for("auto", pipe), JsonFormatter)
    text = formatter_for("text", pipe)
    assert isinstance(text, TextFormatter) and text.colour is False


def test_lines_carry_the_request_id_only_inside_a_request(restore_logging):
    out = io.StringIO()
    setup_logging("info", "json", stream=out)
    log = logging.getLogger("lunaroute.test")
    log_event(log, logging.INFO, "outside", n=1)
    token = request_id_var.set("req_abc")
    try:
        log_event(log, logging.WARNING, "inside", provider="p")
        log_access("POST", "/v1/messages", "anth", 200, 0.0123, provider="p", model="m", attempts=1)
    finally:
        request_id_var.reset(token)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["msg"] for line in lines] == ["outside", "inside", "access"]
    assert "request_id" not in lines[0] and lines[0]["n"] == 1
    assert lines[1]["request_id"] == "req_abc" and lines[1]["level"] == "warning"
    access = lines[2]
    assert access["logger"] == "lunaroute.access" and access["request_id"] == "req_abc"
    assert access["latency_ms"] == 12.3 and access["status"] == 200 and "error" not in access


def test_text_lines_read_as_text(restore_logging):
    out = io.StringIO()
    setup_logging("info", "text", stream=out)
    token = request_id_var.set("req_1")
    try:
        log_event(logging.getLogger("lunaroute.x"), logging.INFO, "served", path="/v1/a b", n=3)
    finally:
        request_id_var.reset(token)
    line = out.getvalue().rstrip("\n")
    assert ' INFO    lunaroute.x: served request_id=req_1 path="/v1/a b" n=3' in line, line
    assert "\x1b[" not in line  # no colour outside a terminal


def test_http_libraries_stay_at_warning_under_debug(restore_logging):
    out = io.StringIO()
    setup_logging("debug", "json", stream=out)
    for name in ("httpx", "httpcore", "hpack", "h2"):
        logging.getLogger(name).debug("Authorization: Bearer sk-should-not-show")
        logging.getLogger(name).info("HTTP Request: POST https://api.example/v1/x?key=should-not-show")
    logging.getLogger("lunaroute.y").debug("ours at debug")
    text = out.getvalue()
    assert "should-not-show" not in text and "ours at debug" in text
