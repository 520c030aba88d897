"""The routing engine: rules → a decision, then retries, fallbacks and circuit breakers.

The server pipeline uses it in three steps per request:

1. `RouteTable.decide(RouteRequest)` → a `RouteDecision` (or None: no route, 404);
2. `run_attempts(decision, attempt, ...)` tries the targets, honouring the breakers of a
   `BreakerRegistry` and a `RetryPolicy`;
3. `HealthMonitor` turns breaker states into `/readyz` and the breaker-state metric.

Rule syntax and semantics: docs/ROUTING.md.
"""

from ..errors import UpstreamFailure
from .attempts import AttemptLog, run_attempts
from .breakers import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerRegistry,
    BreakerSettings,
    CircuitBreakerLike,
    ProviderActivity,
)
from .health import HealthMonitor
from .parse import parse_rules
from .request import RouteRequest
from .retry import RetryPolicy
from .rules import RouteRule, RuleMatch, RuleOptions, Target, ValueMatcher
from .table import RouteDecision, RouteTable

__all__ = [
    "AttemptLog",
    "BreakerRegistry",
    "BreakerSettings",
    "CLOSED",
    "CircuitBreakerLike",
    "HALF_OPEN",
    "HealthMonitor",
    "OPEN",
    "ProviderActivity",
    "RetryPolicy",
    "RouteDecision",
    "RouteRequest",
    "RouteRule",
    "RouteTable",
    "RuleMatch",
    "RuleOptions",
    "Target",
    "UpstreamFailure",
    "ValueMatcher",
    "parse_rules",
    "run_attempts",
]
