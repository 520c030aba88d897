"""LunaRoute: a low-latency LLM API gateway (OpenAI and Anthropic dialects)."""

__version__ = "0.1.0"
