"""`python -m tests.mock_upstream --host 127.0.0.1 --port 0 [--path-prefix P] [--api-key K ...]`

Prints `PORT <n>` as its first stdout line once listening, then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from .server import MockUpstreamServer


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.mock_upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--path-prefix", default="", help="also serve the API under this prefix, e.g. /openai")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        default=None,
        help="accept only these keys (repeatable); default accepts any non-empty key",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    server = MockUpstreamServer(args.host, args.port, path_prefix=args.path_prefix, api_keys=args.api_keys)
    port = await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"PORT {port}", flush=True)
    await stop.wait()
    await server.close()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        print(f"error: refusing to bind {args.host}: the mock serves loopback only", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args))
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
