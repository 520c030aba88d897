"""The small sections of server.yaml: server, storage, pii, state, observability, performance."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from ..bad_value import describe
from ..errors import ConfigError, InvalidPatternError
from ..kernels import PatternMatcher
from ..pii.patterns import PatternProblem, check_custom
from .binds import parse_bind, resolve_path
from .reader import Obj, element, join
from .schema import (
    ObservabilityConfig,
    PerformanceConfig,
    PiiConfig,
    ServerConfig,
    StateConfig,
    StorageConfig,
)
from .vocabulary import LOG_LEVELS

PII_DETECTORS = ("email", "phone", "ssn", "credit_card", "ip_address", "api_key")
PII_MODES = ("mask", "remove", "partial", "tokenize")
COMPRESSIONS = ("zstd", "lz4", "none")
FSYNC_POLICIES = ("always", "batch", "never")
QUEUE_FULL_POLICIES = ("drop", "spill")
LOG_FORMATS = ("auto", "json", "text")
SESSION_KEY_BYTES = 32
_CUSTOM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def parse_server(doc: Obj) -> ServerConfig:
    sec = doc.obj("server")
    workers_raw = sec.raw("workers", "auto")
    if workers_raw == "auto":
        workers = os.cpu_count() or 1
    elif isinstance(workers_raw, str):
        raise sec.error("workers", f"expected a number or 'auto', got {describe(workers_raw)}")
    else:
        workers = sec.int("workers", min=1, max=1024)
    result = ServerConfig(
        workers=workers,
        max_connections=sec.int("max_connections", 10000, min=1, max=10_000_000),
        keepalive_timeout_secs=sec.int("keepalive_timeout_secs", 60, min=0, max=86_400),
        hot_reload=sec.bool("hot_reload", True),
        drain_timeout_secs=sec.num("drain_timeout_secs", 30.0, min=0.0, max=3600.0),
    )
    sec.finish()
    return result


def parse_storage(doc: Obj, config_dir: Path) -> tuple[StorageConfig, Path | None]:
    """The storage section and its `data_path` (None when not set)."""
    sec = doc.obj("storage")
    sec.str("config_path", None)  # informative only: the config dir is where this file is
    data_path_raw = sec.str("data_path", None)
    data_path = resolve_path(data_path_raw, config_dir) if data_path_raw else None
    sessions = sec.obj("sessions")
    sessions_enabled = sessions.bool("enabled", True)
    recording = {
        "fsync": sessions.str("fsync", "batch", choices=FSYNC_POLICIES),
        "queue_size": sessions.int("queue_size", 10000, min=1, max=10_000_000),
        "queue_full": sessions.str("queue_full", "spill", choices=QUEUE_FULL_POLICIES),
        "flush_interval_ms": sessions.int("flush_interval_ms", 1000, min=10, max=60_000),
    }
    sessions.finish()
    encryption = sec.obj("encryption")
    encryption_enabled = encryption.bool("enabled", False)
    key_file_raw = encryption.str("key_file", None)
    key_file = resolve_path(key_file_raw, config_dir) if key_file_raw else config_dir / "keys" / "session.key"
    if encryption_enabled:
        _check_key_file(encryption, key_file)
    encryption.finish()
    result = StorageConfig(
        sessions_enabled=sessions_enabled,
        compression=sec.str("compression", "zstd", choices=COMPRESSIONS),
        encryption_enabled=encryption_enabled,
        key_file=key_file,
        retention_days=sec.int("session_retention_days", 30, min=1, max=36_500),
        compression_level=sec.int("compression_level", 3, min=1, max=22),
        max_disk_mb=sec.num("max_disk_mb", None, min=0.0, min_exclusive=True),
        **recording,
    )
    sec.finish()
    return result, data_path


def _check_key_file(encryption: Obj, key_file: Path) -> None:
    try:
        size = key_file.stat().st_size
    except OSError:
        raise encryption.error("key_file", f"file not found: {key_file} (lunaroute init creates one)") from None
    if size != SESSION_KEY_BYTES:
        raise encryption.error("key_file", f"must hold exactly {SESSION_KEY_BYTES} raw bytes, {key_file} has {size}")


def parse_pii(doc: Obj) -> PiiConfig:
    sec = doc.obj("pii")
    detectors = sec.str_list("detectors", list(PII_DETECTORS), choices=PII_DETECTORS)
    custom: list[dict[str, object]] = []
    names: set[str] = set()
    for i, value in sec.items("custom"):
        entry = _custom_detector(element(value, sec.file, join(sec.field("custom"), i)))
        if entry["name"] in names:
            raise ConfigError(
                sec.file, join(sec.field("custom"), i) + ".name", f"duplicate detector name {describe(entry['name'])}"
            )
        names.add(str(entry["name"]))
        custom.append(entry)
    result = PiiConfig(
        enabled=sec.bool("enabled", False),
        mode=sec.str("mode", "mask", choices=PII_MODES),
        detectors=tuple(detectors),
        custom=tuple(custom),
        restore_in_response=sec.bool("restore_in_response", False),
        reveal_chars=sec.int("reveal_chars", None, min=0, max=64),
        min_confidence=sec.num("min_confidence", 0.5, min=0.0, max=1.0),
    )
    sec.finish()
    return result


def _custom_detector(item: Obj) -> dict[str, object]:
    name = item.str("name")
    if not _CUSTOM_NAME.fullmatch(name):
        raise item.error("name", f"must be a letter then letters, digits or '_', got {describe(name)}")
    if name in PII_DETECTORS:
        raise item.error("name", f"{describe(name)} is a built-in detector name")
    has_pattern = item.raw("pattern", None) is not None
    has_keywords = item.raw("keywords", None) is not None
    if has_pattern == has_keywords:
        raise item.error("pattern", "give exactly one of pattern or keywords")
    # Optional fields stay out of the entry unless given (the engine knows their defaults).
    extra: dict[str, object] = {}
    if item.has("confidence"):
        extra["confidence"] = item.num("confidence", min=0.0, max=1.0)
    if has_pattern:
        pattern = item.str("pattern")
        try:
            compiled = re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            raise item.error("pattern", f"invalid regular expression: {exc}") from None
        if compiled.fullmatch("") is not None:
            raise item.error("pattern", "must not match the empty string")
        _check_portable(item, pattern)
        item.finish()
        return {"name": name, "pattern": pattern, **extra}
    keywords = item.str_list("keywords")
    if not keywords:
        raise item.error("keywords", "must hold at least one keyword")
    if item.has("case_sensitive"):
        extra["case_sensitive"] = item.bool("case_sensitive")
    item.finish()
    return {"name": name, "keywords": list(keywords), **extra}


def _check_portable(item: Obj, pattern: str) -> None:
    """The matcher kernel runs custom patterns on Rust's regex or Python's re: only their
    common subset, without anchors or look-around (docs/PII.md)."""
    try:
        PatternMatcher([], [check_custom(pattern).core])
    except (PatternProblem, InvalidPatternError) as exc:
        raise item.error("pattern", str(exc)) from None


def parse_state(doc: Obj) -> StateConfig:
    sec = doc.obj("state")
    backend = sec.str("backend", "file", choices=("file", "redis"))
    redis_url = sec.str("redis_url", None)
    if backend == "redis" and redis_url is None:
        raise sec.error("redis_url", "required when backend is redis")
    if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise sec.error("redis_url", f"expected a redis://, rediss:// or unix:// URL, got {describe(redis_url)}")
    on_error = sec.str("on_redis_error", "fail_open", choices=("fail_open", "fail_closed"))
    timeout_ms = sec.int("redis_timeout_ms", 250, min=1, max=60_000)
    sec.finish()
    return StateConfig(backend=backend, redis_url=redis_url, on_redis_error=on_error, redis_timeout_ms=timeout_ms)


def parse_observability(doc: Obj) -> ObservabilityConfig:
    sec = doc.obj("observability")
    metrics = sec.obj("metrics")
    metrics_enabled = metrics.bool("enabled", True)
    if metrics.raw("bind", None) is not None:
        host, port = parse_bind(metrics.raw("bind"), metrics.file, metrics.field("bind"))
    else:
        host, port = "127.0.0.1", 9090
    metrics.finish()

    tracing = sec.obj("tracing")
    tracing_enabled = tracing.bool("enabled", False)
    endpoint = tracing.str("endpoint", None)
    # Spans go out as OTLP over HTTP (protobuf): a collector's OTLP/HTTP receiver, port 4318.
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise tracing.error(
            "endpoint", f"expected the http(s):// URL of an OTLP/HTTP collector, got {describe(endpoint)}"
        )
    if tracing_enabled and endpoint is None:
        endpoint = "http://localhost:4318"
    sample_rate = tracing.num("sample_rate", 0.1, min=0.0, max=1.0)
    tracing.finish()

    logging_sec = sec.obj("logging")
    level = logging_sec.str("level", "info", choices=LOG_LEVELS)
    log_format = logging_sec.str("format", "auto", choices=LOG_FORMATS)
    logging_sec.finish()
    sec.finish()
    return ObservabilityConfig(
        metrics_enabled=metrics_enabled,
        metrics_host=host,
        metrics_port=port,
        tracing_enabled=tracing_enabled,
        tracing_endpoint=endpoint,
        sample_rate=sample_rate,
        log_level="warning" if level == "warn" else level,
        log_format=log_format,
    )


def parse_performance(doc: Obj) -> PerformanceConfig:
    sec = doc.obj("performance")
    result = PerformanceConfig(
        buffer_pool_size=sec.int("buffer_pool_size", 1000, min=1, max=10_000_000),
        buffer_size_kb=sec.int("buffer_size_kb", 64, min=1, max=65_536),
        stream_flush_interval_ms=sec.int("stream_flush_interval_ms", 0, min=0, max=60_000),
        arena_size_mb=sec.int("arena_size_mb", 100, min=0, max=1_048_576),
        state_persist_interval_secs=sec.num(
            "state_persist_interval_secs", 10.0, min=0.0, max=86_400.0, min_exclusive=True
        ),
    )
    sec.finish()
    return result
