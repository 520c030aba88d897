"""Metrics (Prometheus), structured logs, and request ids."""
