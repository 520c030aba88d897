"""The default config files `lunaroute init` writes (server.yaml commented, JSON plain)."""

from __future__ import annotations

SERVER_YAML = """\
# LunaRoute server configuration. Every field is documented in docs/CONFIG.md.
# Any string value may use ${ENV_VAR} (or ${ENV_VAR:-fallback}); $${ gives a literal ${.
# Edits take effect without a restart while server.hot_reload is true; a broken edit is
# reported in the log and the last good configuration stays in force.

server:
  workers: auto                 # worker processes; "auto" = one per CPU
  max_connections: 10000        # concurrent client connections per worker
  keepalive_timeout_secs: 60    # idle client keep-alive
  hot_reload: true              # watch the config directory and apply edits live
  drain_timeout_secs: 30        # on SIGTERM/SIGINT, wait this long for in-flight requests

# Other paths of a listener's API (/v1/embeddings, /v1/models/{id}, /v1/files, ...) go
# unparsed to the provider its catch-all rule names (docs/BYPASS.md); false: a 404.
# A listener's own `bypass:` overrides this.
bypass: true

# Client-facing listeners. type: openai (/v1/chat/completions, /v1/models),
# anthropic (/v1/messages, /v1/messages/count_tokens) or both (needs an explicit bind).
listeners:
  - id: openai
    type: openai
    bind: 127.0.0.1:8080
    max_body_size_mb: 10
    # tls:
    #   cert: certs/server.crt  # relative paths are relative to this directory
    #   key: certs/server.key
  - id: anthropic
    type: anthropic
    bind: 127.0.0.1:8081
    max_body_size_mb: 10

# Upstream providers. type: openai, anthropic or openai_compatible (defaults to the name
# when the name is openai or anthropic). base_url is the origin; LunaRoute appends
# /v1/chat/completions or /v1/messages. With no key in api_key_env, the client's own
# Authorization / x-api-key header is passed through.
providers:
  - name: openai
    type: openai
    base_url: https://api.openai.com
    api_key_env: OPENAI_API_KEY
    timeout_ms: 30000
    connect_timeout_ms: 5000
    max_retries: 2              # retries of a 429/5xx/connection failure before the next fallback
    connection_pool:
      max_idle: 100             # idle upstream connections kept for reuse
      max_connections: 1000
      # min_idle: 0             # not built yet: accepted, warns, does nothing
    circuit_breaker:
      failure_threshold: 5      # consecutive failures that open the circuit
      reset_timeout_ms: 30000   # open → half-open after this long
      half_open_requests: 3     # successes in half-open that close it again
  - name: anthropic
    type: anthropic
    base_url: https://api.anthropic.com
    api_key_env: ANTHROPIC_API_KEY
    timeout_ms: 30000
    connect_timeout_ms: 5000
    max_retries: 2
    connection_pool:
      max_idle: 100
      max_connections: 1000
    circuit_breaker:
      failure_threshold: 5
      reset_timeout_ms: 30000
      half_open_requests: 3

# Not built yet: the redis state backend and the performance
# section. Their fields are accepted and validated, a file that turns one on gets a warning at
# start-up, and they do nothing. docs/CONFIG.md lists them.

# Session recording (docs/RECORDING.md): every exchange under <data>/sessions, browsed with
# `lunaroute sessions` and `lunaroute export`.
storage:
  sessions:
    enabled: true
    # flush_interval_ms: 1000   # kill -9 loses at most this much
    # queue_full: spill         # spill (to disk, replayed later) or drop (counted)
  compression: zstd             # zstd, lz4 or none
  session_retention_days: 30
  # max_disk_mb: 10240          # a cap on disk use: the oldest sessions go first
  encryption:
    enabled: false              # AES-256-GCM with keys/session.key
    key_file: keys/session.key

# PII redaction (docs/PII.md): emails, phones, SSNs, cards, IP addresses and secrets are
# replaced in everything clients send, before a provider or a recording sees it. Try a
# config on real text first: lunaroute pii test FILE. A route opts out with options.pii: off.
# pii:
#   enabled: true
#   mode: mask                  # mask, remove, partial or tokenize (<EMAIL_3f9a2c1b7d0e>)
#   detectors: [email, phone, ssn, credit_card, ip_address, api_key]
#   min_confidence: 0.5         # redact findings at least this sure
#   # reveal_chars: 4           # mask/partial: characters left visible at the end
#   # restore_in_response: true # tokenize: tokens in answers turned back into the values
#   custom: []                  # e.g. [{name: employee_id, pattern: '\\bEMP-[0-9]{6}\\b'},
#                               #       {name: project, keywords: [bluebird], case_sensitive: false}]

# Circuit-breaker states are kept under <data dir>/state/ and shared by the workers of
# this host. The redis backend is not built yet: accepted, warns, does nothing.
state:
  backend: file
  # redis_url: redis://127.0.0.1:6379/0

observability:
  metrics:
    enabled: true
    bind: 127.0.0.1:9090        # GET /metrics, /healthz, /readyz
  # tracing:                    # OpenTelemetry spans over OTLP/HTTP (docs/OBSERVABILITY.md)
  #   enabled: true
  #   endpoint: http://localhost:4318
  #   sample_rate: 0.1
  logging:
    level: info                 # debug, info, warning, error, critical
    format: auto                # auto (text on a terminal, else json), json or text

# performance:                  # not built yet: accepted, warns, does nothing
#   buffer_pool_size: 1000
#   buffer_size_kb: 64
#   stream_flush_interval_ms: 0

# System-prompt patches go in prompts.json beside this file (optional; docs/PROMPTS.md), e.g.
# {"patches": [{"id": "brief", "match": {"model": "gpt-*"}, "append": "Be brief."}]}
"""

# A catch-all route per dialect: each listener forwards to the provider of its own dialect
# and keeps the model the client asked for (a target without `model`).
ROUTES = {
    "rules": [
        {
            "id": "openai-default",
            "priority": 1000,
            "listener": "openai",
            "match": {"model": "*"},
            "target": {"provider": "openai"},
            "fallbacks": [],
        },
        {
            "id": "anthropic-default",
            "priority": 1000,
            "listener": "anthropic",
            "match": {"model": "*"},
            "target": {"provider": "anthropic"},
            "fallbacks": [],
        },
    ]
}

KEYS: dict[str, list[object]] = {"api_keys": []}
BUDGETS: dict[str, list[object]] = {"budgets": []}
