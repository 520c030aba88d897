"""`lunaroute metrics [--provider P] [--window W | --watch [I]] [--json]`: a summary from the
running server's metrics endpoint."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, TextIO

from .common import config_dir_of, data_dir_of, print_error

if TYPE_CHECKING:
    from .metrics_summary import Snapshot

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
MAX_WINDOW_S = 24 * 3600.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "metrics",
        parents=parents,
        help="summarise the running server's metrics",
        description="Read the metrics endpoint (observability.metrics.bind) of the running "
        "server and print requests, error rate, latency by phase, tokens, cost, fallbacks, "
        "circuit states and budgets. With --window, scrape twice that far apart and show the "
        "activity in between; with --watch, show each interval's activity until Ctrl-C.",
    )
    p.add_argument("--provider", help="only this provider's requests, cost, attempts and circuit")
    p.add_argument(
        "--window", type=_window, metavar="DURATION", help="e.g. 10s, 5m: measure over this long instead of since start"
    )
    p.add_argument(
        "--watch",
        type=_window,
        nargs="?",
        const=2.0,
        metavar="INTERVAL",
        help="refresh every INTERVAL (default 2s), each time with the activity since the last refresh",
    )
    p.add_argument("--json", action="store_true", help="JSON output (one object per refresh with --watch)")
    p.add_argument("--url", help="metrics URL (default: from the config)")
    p.set_defaults(run=run)


def _window(text: str) -> float:
    m = _DURATION.fullmatch(text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a duration like 10s, 5m or 1h, got {text!r}")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not 0 < seconds <= MAX_WINDOW_S:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 24h, got {text!r}")
    return seconds


def metrics_url(args: argparse.Namespace) -> str | None:
    """The URL to scrape, or None when metrics are disabled in the config."""
    from ..config import load_config
    from ..config.defaults import existing_config_files

    if args.url:
        return str(args.url)
    config_dir = config_dir_of(args)
    if not existing_config_files(config_dir):
        return "http://127.0.0.1:9090/metrics"
    obs = load_config(config_dir, data_dir_of(args)).observability
    if not obs.metrics_enabled:
        return None
    # A wildcard bind is reached through loopback.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(obs.metrics_host, obs.metrics_host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{obs.metrics_port}/metrics"


def _scrape(url: str) -> Snapshot:
    from .metrics_summary import parse_metrics

    with urllib.request.urlopen(url, timeout=5) as resp:
        return parse_metrics(resp.read().decode("utf-8", "replace"))


def _colour(stream: TextIO) -> bool:
    """Colour on a terminal, unless NO_COLOR says otherwise (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _show(args: argparse.Namespace, url: str, snap: Snapshot, window_s: float | None) -> None:
    from .metrics_summary import Scope, render, to_json

    if args.json:
        print(json.dumps(to_json(snap, Scope(args.provider, window_s), url)), flush=True)
        return
    print(f"LunaRoute metrics from {url}")
    print(render(snap, provider=args.provider, window_s=window_s, colour=_colour(sys.stdout)), flush=True)


def _watch(args: argparse.Namespace, url: str) -> None:
    interval = args.watch
    clear = not args.json and sys.stdout.isatty()
    earlier = _scrape(url)
    _show(args, url, earlier, None)
    while True:
        time.sleep(interval)
        now = _scrape(url)
        if clear:
            print("\x1b[H\x1b[2J", end="")
        _show(args, url, now.minus(earlier), interval)
        earlier = now


def run(args: argparse.Namespace) -> int:
    url = metrics_url(args)
    if url is None:
        print_error("metrics are disabled in the config (observability.metrics.enabled: false)")
        return 1
    if args.watch and args.window:
        print_error("--window and --watch do not combine: --watch INTERVAL measures each interval")
        return 2
    try:
        if args.watch:
            _watch(args, url)
        snap = _scrape(url)
        if args.window:
            time.sleep(args.window)
            snap = _scrape(url).minus(snap)
    except KeyboardInterrupt:
        return 0
    except urllib.error.HTTPError as exc:
        print_error(f"the metrics endpoint {url} answered HTTP {exc.code}")
        return 1
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print_error(f"cannot reach {url} ({reason}); is `lunaroute serve` running?")
        return 1
    except ValueError as exc:
        print_error(f"{url} did not answer Prometheus metrics ({exc})")
        return 1
    _show(args, url, snap, args.window)
    return 0
