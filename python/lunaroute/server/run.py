"""`lunaroute serve`: listeners on granian, workers, signals, drain, hot reload.

Process model. With `server.workers: 1` everything runs in this one process: one event loop,
one embedded granian server per listener plus the metrics/health listener (the lowest
latency and memory). With N > 1 this process becomes a supervisor: it forks N workers that
each serve every client listener on the same ports (granian binds with SO_REUSEPORT, so the
kernel spreads connections), and itself serves the metrics/health listener, reading the
workers' metrics from the snapshot files they write (observability/metrics.py) and the
circuit breakers through their shared-memory slots.

Shutdown (SIGTERM/SIGINT): stop accepting, let in-flight requests (streams included) finish
for up to `server.drain_timeout_secs` (30 s), then exit 0. A signal that arrives while the
process is still starting is kept and acted on as soon as the event loop runs. Workers never
outlive the supervisor (parent_death.py), and before anything starts, the supervisor checks
that no other process listens on its addresses (ports.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

if TYPE_CHECKING:
    from ..config.schema import Config, ServerConfig, TlsConfig
    from ..config.watcher import ConfigWatcher
    from ..observability.metrics import Metrics, MetricsSnapshotWriter
    from ..observability.tracing import Tracing
    from ..routing import HealthMonitor
    from ..ui import UiApp

log = logging.getLogger("lunaroute.server")

# Set by the supervisor for its workers: where each writes its metrics snapshot.
_METRICS_DIR_ENV = "LUNAROUTE_METRICS_DIR"
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class EarlyStop:
    """SIGTERM/SIGINT received before the event loop takes the signals over."""

    def __init__(self) -> None:
        self.signum = 0

    def install(self) -> None:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._note)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum


def _granian_server(
    app: Any,
    host: str,
    port: int,
    *,
    tls: TlsConfig | None = None,
    backlog: int = 2048,
    server_cfg: ServerConfig | None = None,
) -> Server:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server.embed import Server

    kwargs: dict[str, Any] = dict(
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        http=HTTPModes.auto,
        websockets=False,
        backlog=backlog,
        log_enabled=False,
        runtime_threads=1,
    )
    if server_cfg is not None:
        # An idle keep-alive connection waits for its next request head at most this long.
        kwargs["http1_settings"] = HTTP1Settings(header_read_timeout=int(server_cfg.keepalive_timeout_secs * 1000))
        # Requests in flight per worker before granian stops taking more.
        kwargs["backpressure"] = int(server_cfg.max_connections)
    if tls is not None:
        kwargs["ssl_cert"] = Path(tls.cert)
        kwargs["ssl_key"] = Path(tls.key)
        from granian.constants import SSLProtocols

        kwargs["ssl_protocol_min"] = SSLProtocols.tls12
    return Server(app, **kwargs)


class Server(Protocol):
    """What is used of granian's embedded server (its own methods carry no annotations)."""

    async def serve(self) -> None: ...

    def stop(self) -> None: ...


RECORDER_CLOSE_TIMEOUT_S = 30.0
TRACING_CLOSE_TIMEOUT_S = 5.0


def breaker_shm_path(config: Config) -> str:
    state_dir = Path(config.data_dir) / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    return str(state_dir / "circuits.shm")


class GatewayServer:
    """One serving process: the state, the listeners, the reload watcher."""

    def __init__(
        self, config: Config, *, serve_clients: bool = True, serve_ops: bool = True, early_stop: EarlyStop | None = None
    ) -> None:
        from ..limits import LimitsEngine
        from ..observability.metrics import Metrics, config_model_names
        from ..recording import Recorder
        from ..routing import BreakerRegistry
        from .state import GatewayState

        self.config = config
        self.serve_clients = serve_clients
        self.serve_ops = serve_ops
        self.early_stop = early_stop
        self.metrics = Metrics()
        self.metrics.use_config_models(config_model_names(config.routes))
        self.shm_path = breaker_shm_path(config)
        self.breakers = BreakerRegistry(
            {n: p.circuit_breaker for n, p in config.providers.items()}, shm_path=self.shm_path
        )
        # Sessions are recorded where requests are served: in each worker, after the fork
        # (the recorder's writer thread would not survive one).
        self.recorder = Recorder.from_config(config.storage, config.data_dir) if serve_clients else None
        if self.recorder is not None:
            self.metrics.pullers.append(self._pull_recorder_counts)
        # Rate limits and budgets: one engine per serving process; its state (shared memory
        # under <data>/state/, or redis) is what all processes and instances share.
        self.limits = LimitsEngine.from_config(config, config.data_dir) if serve_clients else None
        if self.limits is not None:
            self.metrics.pullers.append(self._pull_limits)
        self.metrics.pullers.append(self._pull_pii)
        # Traces are made where requests are served: in each worker, after the fork (the
        # exporter's thread would not survive one).
        self.tracing = _tracing(config) if serve_clients else None
        self.state = GatewayState(
            config,
            self.metrics,
            breakers=self.breakers,
            recorder=self.recorder,
            limits=self.limits,
            tracing=self.tracing,
        )
        self._servers: list[Server] = []
        self._stop = asyncio.Event()
        # What the web UI's config page shows: when the config in force was loaded, and the
        # last reload that was rejected (time, one-line error).
        self.config_loaded_at = time.time()
        self.last_reload_error: tuple[float, str] | None = None
        self._ui: UiApp | None = None
        self._watcher: ConfigWatcher | None = None
        self._health: HealthMonitor | None = None
        self._snapshots: MetricsSnapshotWriter | None = None

    @property
    def inflight(self) -> int:
        """Requests in flight on this process's listeners (the metrics gauge is the count)."""
        return int(self.metrics.inflight.value)

    def _pull_limits(self, metrics: Metrics) -> None:
        engine = self.limits
        assert engine is not None  # pulled only when the engine exists (__init__)
        metrics.rate_limited.value = float(engine.rate_limited)
        metrics.budget_ratio = {k: float(v) for k, v in engine.budget_usage_ratios().items()}

    def _pull_pii(self, metrics: Metrics) -> None:
        pii = self.state.pii
        if pii is not None:
            metrics.pii_detections = {k: float(v) for k, v in pii.detections.items()}
            metrics.pii_redactions.value = float(pii.redactions)

    def _pull_recorder_counts(self, metrics: Metrics) -> None:
        rec = self.recorder
        assert rec is not None  # pulled only when the recorder exists (__init__)
        metrics.recording_errors.value = float(rec.errors + rec.dropped)

    # -------------------------------------------------------------- ops helpers
    def breaker_states(self) -> dict[str, int]:
        return self.state.breakers.states()

    def ready(self, states: dict[str, int]) -> bool:
        return bool(states) and any(s != 1 for s in states.values())

    def render_metrics(self) -> bytes:
        states = self.breaker_states()
        mp_dir = os.environ.get(_METRICS_DIR_ENV)
        if mp_dir and not self.serve_clients:
            from ..observability.metrics import read_worker_snapshots

            return self.metrics.render(read_worker_snapshots(mp_dir), breaker_states=states)
        self.metrics.set_breaker_states(states)
        return self.metrics.render()

    # -------------------------------------------------------------- reload
    def apply_config(self, config: Config) -> None:
        from ..observability.audit import audit_reload
        from ..observability.metrics import config_model_names
        from ..routing import BreakerRegistry
        from .state import GatewayState

        breakers = BreakerRegistry(
            {n: p.circuit_breaker for n, p in config.providers.items()},
            shm_path=self.shm_path,
            previous=self.state.breakers,
        )
        if config.storage != self.config.storage:
            log.warning("storage settings changed: they take effect at the next restart")
        if _tracing_settings(config) != _tracing_settings(self.config):
            log.warning("tracing settings changed: they take effect at the next restart")
        if self.limits is not None:
            # New keys, budgets, rates and prices for the next request; usage stays in the store.
            self.limits.apply_config(config)
        new_state = GatewayState(
            config,
            self.metrics,
            previous=self.state,
            breakers=breakers,
            recorder=self.recorder,
            limits=self.limits,
            tracing=self.tracing,
        )
        old = self.state
        old_config = self.config
        self.state = new_state
        self.metrics.use_config_models(config_model_names(config.routes))
        if self._health is not None:
            self._health.use_registry(breakers)
        self.config = config
        self.config_loaded_at = time.time()
        if self.serve_ops:  # one process says it: the only one, or the supervisor
            audit_reload(old_config, config)
        if new_state.retired:
            # Requests that started on the old state may still use retired connectors.
            asyncio.get_running_loop().call_later(
                self.config.server.drain_timeout_secs,
                lambda: asyncio.ensure_future(new_state.aclose_retired()),
            )
        del old

    def _reload_failed(self, err: BaseException) -> None:
        self.last_reload_error = (time.time(), str(err))
        log.error("config reload rejected; keeping the last good config", extra={"fields": {"error": str(err)}})

    # -------------------------------------------------------------- lifecycle
    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        from .listener_app import ListenerApp
        from .ops_app import OpsApp

        cfg = self.config
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, self.request_stop)
        if self.early_stop is not None and self.early_stop.signum:
            log.info("stop requested while starting; not serving")
            await self._close_state()
            return 0
        if self.serve_clients:
            for lst in cfg.listeners:
                self._servers.append(
                    _granian_server(ListenerApp(self, lst), lst.host, lst.port, tls=lst.tls, server_cfg=cfg.server)
                )
        obs = cfg.observability
        if self.serve_ops and obs.metrics_enabled:
            self._servers.append(_granian_server(OpsApp(self), obs.metrics_host, obs.metrics_port))
        if self.serve_ops and cfg.ui.enabled:
            self._servers.append(self._ui_server())
        tasks = [loop.create_task(s.serve()) for s in self._servers]
        if self.serve_clients:
            await self._warmup()
        # Everything loaded so far lives for the whole process: keep it out of the cyclic
        # collector's sight, and collect young objects less often (request garbage is freed
        # by reference counting; gen-0 passes over long-lived state were measurable).
        gc.freeze()
        gc.set_threshold(20000, 20, 20)
        if cfg.server.hot_reload:
            await self._start_watcher()
        await self._start_health()
        mp_dir = os.environ.get(_METRICS_DIR_ENV)
        if mp_dir and self.serve_clients:
            from ..observability.metrics import MetricsSnapshotWriter

            snapshots = self._snapshots = MetricsSnapshotWriter(self.metrics, mp_dir)
            snapshots.start()
        log.info(
            "lunaroute serving",
            extra={
                "fields": {
                    "listeners": [f"{li.id}={li.host}:{li.port}" for li in cfg.listeners] if self.serve_clients else [],
                    "metrics": f"{obs.metrics_host}:{obs.metrics_port}"
                    if self.serve_ops and obs.metrics_enabled
                    else None,
                    "ui": f"{cfg.ui.host}:{cfg.ui.port}" if self.serve_ops and cfg.ui.enabled else None,
                    "pid": os.getpid(),
                }
            },
        )
        stop_wait = loop.create_task(self._stop.wait())
        done, _ = await asyncio.wait([stop_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in tasks if t in done and t.exception() is not None]
        if failed:
            log.error("a listener failed to start: %s", failed[0].exception())
        log.info("shutting down: draining in-flight requests", extra={"fields": {"inflight": self.inflight}})
        for s in self._servers:
            try:
                s.stop()
            except Exception:
                pass
        deadline = time.monotonic() + cfg.server.drain_timeout_secs
        while self.inflight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        try:
            await asyncio.wait_for(
                asyncio.gather(*tasks, return_exceptions=True), max(0.1, deadline - time.monotonic())
            )
        except TimeoutError:
            log.warning("drain timeout reached with %d requests in flight", self.inflight)
        await self._stop_background()
        await self._close_state()
        log.info("lunaroute stopped")
        return 1 if failed else 0

    async def _close_state(self) -> None:
        for conn in self.state.connectors.values():
            await conn.aclose()
        self.state.breakers.close()
        if self.tracing is not None:
            # Spans still queued go out now, unless the collector does not answer.
            try:
                await asyncio.wait_for(asyncio.to_thread(self.tracing.shutdown), TRACING_CLOSE_TIMEOUT_S)
            except TimeoutError:
                log.warning("tracing: the collector did not take the last spans within %.0f s", TRACING_CLOSE_TIMEOUT_S)
        if self.limits is not None:
            await self.limits.aclose()
        if self.recorder is not None:
            # Everything served is on disk before the process exits (SIGTERM and SIGINT too).
            if not await asyncio.to_thread(self.recorder.close, RECORDER_CLOSE_TIMEOUT_S):
                log.error("session recorder did not finish writing within %.0f s", RECORDER_CLOSE_TIMEOUT_S)

    async def _warmup(self) -> None:
        for name, prov in self.config.providers.items():
            n = prov.warmup_connections
            if n:
                try:
                    await self.state.connectors[name].warmup(n)
                except Exception as exc:
                    log.warning("warm-up of %s failed: %s", name, exc)

    async def _start_watcher(self) -> None:
        from ..config import ConfigWatcher

        watcher = self._watcher = ConfigWatcher(
            self.config.config_dir, self.config.data_dir, self.apply_config, self._reload_failed
        )
        await watcher.start()

    async def _start_health(self) -> None:
        from ..routing import HealthMonitor

        intervals: dict[str, int] = {}
        for name, prov in self.config.providers.items():
            hc = prov.health_check
            if hc.enabled:
                intervals[name] = int(hc.interval_ms)
        if not intervals:
            return

        async def probe(provider: str) -> bool:
            state = self.state
            conn = state.connectors.get(provider)
            prov = state.providers.get(provider)
            if conn is None or prov is None:
                return False
            return await conn.probe(prov.health_check.path)

        health = self._health = HealthMonitor(self.state.breakers, probe=probe, intervals_ms=intervals)
        await health.start()

    def _ui_server(self) -> Server:
        """The web UI's listener (docs/UI.md), beside the metrics listener."""
        from ..ui import UiApp

        app = self._ui = UiApp(self)
        ui = self.config.ui
        return _granian_server(app, ui.host, ui.port)

    async def _stop_background(self) -> None:
        if self._ui is not None:
            await self._ui.aclose()
        if self._snapshots is not None:
            self._snapshots.stop()
        if self._watcher is not None:
            await self._watcher.stop()
        if self._health is not None:
            await self._health.stop()


def _tracing(config: Config) -> Tracing | None:
    """The process's OpenTelemetry tracing, None when off (nothing of it is imported then)."""
    if not config.observability.tracing_enabled:
        return None
    from ..observability.tracing import Tracing

    return Tracing.from_config(config.observability)


def _tracing_settings(config: Config) -> tuple[bool, str | None, float]:
    obs = config.observability
    return (obs.tracing_enabled, obs.tracing_endpoint, obs.sample_rate)


# ------------------------------------------------------------------ entry points
def _run_loop(coro_factory: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        import uvloop

        return uvloop.run(coro_factory())
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(coro_factory())


def _serve_one(config: Config, *, serve_clients: bool, serve_ops: bool, early_stop: EarlyStop | None = None) -> int:
    async def main() -> int:
        server = GatewayServer(config, serve_clients=serve_clients, serve_ops=serve_ops, early_stop=early_stop)
        return await server.run()

    return _run_loop(main)


def serve(config: Config, log_level: str | None = None) -> int:
    """Serve until SIGTERM/SIGINT. Returns the process exit code.

    Raises `ports.BindError` before starting anything when an address is taken.
    """
    from ..observability.logs import setup_logging
    from .ports import check_addresses_free

    check_addresses_free(config)
    obs = config.observability
    setup_logging(log_level or obs.log_level, obs.log_format)
    early = EarlyStop()
    early.install()
    workers = max(1, int(config.server.workers))
    if workers == 1:
        code = _serve_one(config, serve_clients=True, serve_ops=True, early_stop=early)
    else:
        code = _supervise(config, workers, early)
    sys.stdout.flush()
    sys.stderr.flush()
    # granian's Rust threads can panic while the interpreter tears down; the work is done.
    os._exit(code)


def _worker(config: Config, supervisor: int) -> NoReturn:
    """A forked worker's whole life. Starts with SIGTERM/SIGINT blocked (see spawn)."""
    from .parent_death import exit_with_parent

    code = 1
    try:
        # Until its event loop takes over, a signal simply ends a worker: nothing to drain yet.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        # SIGTERM rather than SIGKILL: the worker stops accepting at once and still lets the
        # requests it holds finish (bounded by the drain timeout).
        exit_with_parent(supervisor, signal.SIGTERM)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        code = _serve_one(config, serve_clients=True, serve_ops=False)
    finally:
        os._exit(code)


def _stop_workers(children: dict[int, int], grace_s: float) -> None:
    """SIGTERM every worker, give them `grace_s` to drain, SIGKILL the rest; reap them all."""
    for pid in children:
        _send(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while children and time.monotonic() < deadline:
        for pid in list(children):
            if _reaped(pid, os.WNOHANG):
                del children[pid]
        time.sleep(0.02)
    for pid in list(children):
        _send(pid, signal.SIGKILL)
        _reaped(pid, 0)
        del children[pid]


def _send(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reaped(pid: int, flags: int) -> bool:
    try:
        return os.waitpid(pid, flags)[0] == pid
    except ChildProcessError:
        return True


def _supervise(config: Config, workers: int, early: EarlyStop) -> int:
    mp_dir = tempfile.mkdtemp(prefix="lunaroute-metrics-")
    os.environ[_METRICS_DIR_ENV] = mp_dir
    supervisor = os.getpid()
    children: dict[int, int] = {}
    grace_s = config.server.drain_timeout_secs + 5

    def spawn(index: int) -> int:
        # Blocked across the fork, a stop signal can never run the supervisor's handler in the
        # child; the child unblocks once it has its own dispositions and its parent-death signal.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                _worker(config, supervisor)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        return pid

    async def main() -> int:
        server = GatewayServer(config, serve_clients=False, serve_ops=True, early_stop=early)
        loop = asyncio.get_running_loop()

        def reap() -> None:
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                idx = children.pop(pid, None)
                if idx is not None and not server._stop.is_set():
                    log.error("worker %d exited unexpectedly (status %d); restarting", idx, status)
                    children[spawn(idx)] = idx

        async def watch_children() -> None:
            # uvloop owns SIGCHLD, so reap by polling: a crashed worker is back within 0.2 s.
            while True:
                await asyncio.sleep(0.2)
                reap()

        watcher = loop.create_task(watch_children())
        code = await server.run()
        watcher.cancel()
        _stop_workers(children, grace_s)
        return code

    try:
        for i in range(workers):
            if early.signum:
                break
            children[spawn(i)] = i
        if early.signum:
            # Stopped before the event loop could take the signal: the workers forked so
            # far must not be left behind.
            log.info("stop requested while starting workers")
            _stop_workers(children, grace_s)
            return 0
        log.info("supervisor started %d workers", workers)
        return _run_loop(main)
    finally:
        import shutil

        shutil.rmtree(mp_dir, ignore_errors=True)
