"""End-to-end benchmark of LunaRoute against direct-to-upstream (and optionally LiteLLM).

Entry points (from the repository root):
    python bench/e2e/run_bench.py [--quick] [--with-litellm]       # the gateway benchmark
    python bench/e2e/streams_at_scale.py [--streams 2000]           # long-lived streams at scale
See bench/e2e/README.md.
"""
