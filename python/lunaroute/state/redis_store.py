"""The `redis` backend: every LunaRoute instance on one Redis shares buckets and budgets.

Each admit is one EVALSHA (the Lua of `redis_lua.py` checks and takes atomically), each
charge one more; the calls of concurrent requests share one pipeline (`redis_batch.py`). Redis being unreachable must never hang a request: sockets have short
timeouts, every call has a deadline, and after a failure the store stops calling Redis for a
backoff (doubling, at most `MAX_BACKOFF`), during which calls fail at once with
StateUnavailableError; then one call probes. Charges that could not be sent are summed per
record and sent in one call when Redis is back, so usage is not lost to an outage.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from . import evaluate
from .base import StateUnavailableError, Usage, WindowRef
from .plan import NEED_ONE, AdmitPlan, AdmitResult, ChargePlan
from .redis_batch import ScriptBatcher
from .redis_lua import ADMIT, CHARGE

log = logging.getLogger("lunaroute.state")

T = TypeVar("T")
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
KEY_PREFIX = "lunaroute:"
MAX_CONNECTIONS = 32
_PLAN_CACHE = 65536
RESET_TTL = 40 * 86400  # past the end of any window (the next charge sets the exact expiry)
_FAILURES = (RedisError, OSError, TimeoutError)


def _sha1(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()


def _num(value: float) -> str:
    return repr(float(value))


class RedisStateStore:
    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 0.25,
        policy: str = "fail_open",
        prefix: str = KEY_PREFIX,
        client: Redis | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.policy = policy
        self.prefix = prefix
        self.errors = 0
        self._owns_pool = client is None
        # A bounded pool: a burst of requests waits (up to the deadline) for a connection
        # rather than opening one each; batching keeps few of them busy anyway.
        self.redis: Redis = client or Redis(
            connection_pool=BlockingConnectionPool.from_url(
                url,
                max_connections=MAX_CONNECTIONS,
                timeout=timeout,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),  # this store decides when to try again
                health_check_interval=0,
                decode_responses=True,
            )
        )
        # A call may need a connection, a NOSCRIPT answer and a script load before its reply.
        self._deadline = 4 * timeout + 0.05
        self._admit_sha = _sha1(ADMIT)
        self._charge_sha = _sha1(CHARGE)
        self._batch = ScriptBatcher(self.redis, {self._admit_sha: ADMIT, self._charge_sha: CHARGE}, self._deadline)
        self._up = True
        self._down_since = 0.0
        self._retry_at = 0.0
        self._backoff = 0.0
        self._probing = False
        self._cache: dict[str, tuple[float, Usage]] = {}
        self._plans: dict[int, tuple[AdmitPlan, list[bytes], bytes]] = {}
        self._pending_windows: dict[str, list[float]] = {}  # key -> [start, end, tokens, cost]
        self._pending_buckets: dict[str, list[float]] = {}  # key -> [rate, burst, tokens]
        self._pending_now = 0.0  # the caller's clock at the last kept charge
        self._flushing: asyncio.Task[None] | None = None

    @property
    def available(self) -> bool:
        return self._up

    # ------------------------------------------------------------------ reachability
    async def _call(self, make: Callable[[], Awaitable[T]], *, deadline: bool = True) -> T:
        """`make()` unless Redis is known down; `deadline=False` for a batched call, which
        the batch's own deadline bounds."""
        probing = False
        if not self._up:
            now = time.monotonic()
            if now < self._retry_at or self._probing:
                raise StateUnavailableError("redis is unreachable", max(self._retry_at - now, FIRST_BACKOFF))
            self._probing = probing = True
        try:
            result = await (asyncio.wait_for(make(), self._deadline) if deadline else make())
        except _FAILURES as exc:
            self._failed(exc)
            raise StateUnavailableError(f"redis is unreachable: {exc or type(exc).__name__}", self._backoff) from None
        finally:
            if probing:
                self._probing = False
        if not self._up:
            self._recovered()
        return result

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        now = time.monotonic()
        if self._up:
            self._up = False
            self._down_since = now
            self._backoff = FIRST_BACKOFF
            log.warning(
                "redis state store unreachable (%s): %s until it answers again",
                exc or type(exc).__name__,
                self.policy.replace("_", " "),
                extra={"fields": {"url": _redact(self.url), "policy": self.policy}},
            )
        else:
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        self._retry_at = now + self._backoff

    def _recovered(self) -> None:
        self._up = True
        log.warning(
            "redis state store reachable again after %.1f s",
            time.monotonic() - self._down_since,
            extra={"fields": {"url": _redact(self.url)}},
        )
        if self._pending_windows or self._pending_buckets:
            self._flushing = asyncio.get_running_loop().create_task(self._flush_pending())

    # ------------------------------------------------------------------ the interface
    def _admit_call(self, plan: AdmitPlan) -> tuple[list[bytes], bytes]:
        """KEYS and the numbers (but `now`) of a plan's admit script, encoded; plans are
        cached per key by the rules, so this is built once per key and period."""
        held = self._plans.get(id(plan))
        if held is not None and held[0] is plan:
            return held[1], held[2]
        p = self.prefix
        keys = [(p + key).encode() for key in evaluate.admit_keys(plan)]
        args: list[Any] = [len(plan.windows), len(plan.budgets), len(plan.buckets)]
        for w in plan.windows:
            args += [w.budget, _num(w.start), _num(w.end), _num(w.tokens), _num(w.requests), _num(w.cost_cents)]
        for budget in plan.budgets:
            t = budget.throttle
            args += [_num(budget.soft_fraction), int(budget.throttles), int(budget.blocks), _num(t.rate), _num(t.burst)]
        for b in plan.buckets:
            args += [_num(b.rate), _num(b.burst), b.kind]
        blob = ",".join(map(str, args)).encode()
        if len(self._plans) >= _PLAN_CACHE:
            self._plans.clear()
        self._plans[id(plan)] = (plan, keys, blob)
        return keys, blob

    async def admit(self, plan: AdmitPlan, now: float) -> AdmitResult:
        keys, blob = self._admit_call(plan)
        args = [_num(now).encode(), blob]
        reply = await self._call(lambda: self._batch.call(self._admit_sha, keys, args), deadline=False)
        status, retry_after, window, soft = int(reply[0]), float(reply[1]), int(reply[2]), reply[3]
        flat = [float(v) for v in reply[4:]]
        usage = tuple((flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3))
        for w, (tokens, requests, cost) in zip(plan.windows, usage):
            self._cache[w.key] = (w.start, (tokens, requests + (1.0 if status == 0 else 0.0), cost))
        return AdmitResult(
            status,
            retry_after,
            soft=tuple(c == "1" for c in soft) if soft else (False,) * len(plan.budgets),
            usage=usage,
            window=window,
        )

    async def charge(self, plan: ChargePlan, now: float) -> tuple[Usage, ...]:
        windows = [(w.key, w.start, w.end, plan.tokens, plan.cost_cents) for w in plan.windows]
        buckets = [(b.key, b.rate, b.burst, plan.tokens) for b in plan.buckets if b.kind == NEED_ONE]
        try:
            return await self._send_charge(windows, buckets, now)
        except StateUnavailableError:
            self._keep_pending(windows, buckets)
            self._pending_now = max(self._pending_now, now)
            return ()

    async def _send_charge(
        self,
        windows: list[tuple[str, float, float, float, float]],
        buckets: list[tuple[str, float, float, float]],
        now: float,
    ) -> tuple[Usage, ...]:
        p = self.prefix
        keys = [p + w[0] for w in windows] + [p + b[0] for b in buckets]
        numbers: list[Any] = [len(windows), len(buckets)]
        for _, start, end, tokens, cost in windows:
            numbers += [_num(start), _num(end), _num(tokens), _num(cost)]
        for _, rate, burst, tokens in buckets:
            numbers += [_num(rate), _num(burst), _num(tokens)]
        args = [_num(now), ",".join(map(str, numbers))]
        reply = await self._call(lambda: self._batch.call(self._charge_sha, keys, args), deadline=False)
        flat = [float(v) for v in reply]
        usage = tuple((flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3))
        for (key, start, *_), used in zip(windows, usage):
            self._cache[key] = (start, used)
        return usage

    def _keep_pending(
        self,
        windows: list[tuple[str, float, float, float, float]],
        buckets: list[tuple[str, float, float, float]],
    ) -> None:
        for key, start, end, tokens, cost in windows:
            held = self._pending_windows.get(key)
            if held is None or held[0] != start:  # a newer period replaces an older one's rest
                self._pending_windows[key] = [start, end, tokens, cost]
            else:
                held[2] += tokens
                held[3] += cost
        for key, rate, burst, tokens in buckets:
            held = self._pending_buckets.get(key)
            if held is None:
                self._pending_buckets[key] = [rate, burst, tokens]
            else:
                held[2] += tokens

    async def _flush_pending(self) -> None:
        windows = [(k, v[0], v[1], v[2], v[3]) for k, v in self._pending_windows.items()]
        buckets = [(k, v[0], v[1], v[2]) for k, v in self._pending_buckets.items()]
        self._pending_windows, self._pending_buckets = {}, {}
        if not windows and not buckets:
            return
        try:
            await self._send_charge(windows, buckets, self._pending_now)
            log.info("sent the usage charged while redis was unreachable", extra={"fields": {"records": len(windows)}})
        except StateUnavailableError:
            self._keep_pending(windows, buckets)

    async def read_windows(self, windows: list[WindowRef]) -> list[Usage]:
        async def read() -> list[Any]:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, _ in windows:
                    pipe.hmget(self.prefix + key, "a", "b", "c", "d")
                return await pipe.execute()

        replies = await self._call(read) if windows else []
        out: list[Usage] = []
        for (key, start), values in zip(windows, replies):
            stored = float(values[0]) if values[0] is not None else 0.0
            used: Usage = (
                (float(values[1] or 0), float(values[2] or 0), float(values[3] or 0))
                if stored == start
                else (0.0, 0.0, 0.0)
            )
            self._cache[key] = (start, used)
            out.append(used)
        return out

    def cached_windows(self, windows: list[WindowRef]) -> list[Usage | None]:
        out: list[Usage | None] = []
        for key, start in windows:
            held = self._cache.get(key)
            out.append(None if held is None else held[1] if held[0] == start else (0.0, 0.0, 0.0))
        return out

    async def reset_windows(self, windows: list[WindowRef]) -> None:
        async def reset() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                for key, start in windows:
                    pipe.hset(self.prefix + key, mapping={"a": _num(start), "b": "0", "c": "0", "d": "0"})
                    pipe.expire(self.prefix + key, RESET_TTL)
                await pipe.execute()

        if windows:
            await self._call(reset)
        for key, start in windows:
            self._cache[key] = (start, (0.0, 0.0, 0.0))
            self._pending_windows.pop(key, None)

    async def flush(self) -> None:
        if self._pending_windows or self._pending_buckets:
            await self._flush_pending()

    async def ping(self) -> bool:
        try:
            await self._call(self.redis.ping)
        except StateUnavailableError:
            return False
        return True

    async def aclose(self) -> None:
        if self._flushing is not None and not self._flushing.done():
            try:
                await asyncio.wait_for(self._flushing, self._deadline)
            except (TimeoutError, asyncio.CancelledError):
                pass
        await self._batch.aclose()
        try:
            # Redis.aclose leaves open a pool it was given: the one made here is closed here.
            await self.redis.aclose(close_connection_pool=self._owns_pool)
        except _FAILURES:
            pass


def _redact(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
