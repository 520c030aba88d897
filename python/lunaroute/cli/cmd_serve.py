"""`lunaroute serve [--log-level L]` (also what `lunaroute` alone runs)."""

from __future__ import annotations

import argparse
import sys

from ..config.vocabulary import LOG_LEVELS
from .common import config_dir_of, data_dir_of, print_error


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        parents=parents,
        help="run the gateway (the default command)",
        description="Start every listener and the metrics/health listener. Writes a default "
        "config first when the config directory is empty.",
    )
    p.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        default=None,
        help="override observability.logging.level",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config, write_default_config
    from ..config.defaults import existing_config_files

    config_dir = config_dir_of(args)
    if not existing_config_files(config_dir):
        write_default_config(config_dir)
        print(f"lunaroute: wrote a default config to {config_dir}", file=sys.stderr)
    config = load_config(config_dir, data_dir_of(args))
    config.data_dir.mkdir(parents=True, exist_ok=True)
    level = args.log_level or config.observability.log_level
    if level == "warn":
        level = "warning"
    try:
        from ..server.ports import BindError
        from ..server.run import serve
    except ImportError as exc:
        print_error(f"the server is not available in this installation ({exc})")
        return 1
    try:
        return int(serve(config, log_level=level) or 0)
    except BindError as err:
        # Not a config error (exit 2): the same config starts once the address is free.
        print_error(str(err))
        return 1
