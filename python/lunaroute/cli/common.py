"""What every sub-command shares: the parser class, --config-dir/--data-dir, error lines."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from ..errors import ConfigError

PROG = "lunaroute"
DEFAULT_CONFIG_DIR = Path("~/.config/lunaroute")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see --help)\n")


def add_dir_options(parser: argparse.ArgumentParser) -> None:
    """--config-dir / --data-dir. SUPPRESS so a sub-command never resets a value given
    before the sub-command name (`lunaroute --config-dir X keys list`)."""
    group = parser.add_argument_group("directories")
    group.add_argument(
        "--config-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="config directory (default: $LUNAROUTE_CONFIG_DIR, else ~/.config/lunaroute)",
    )
    group.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data directory (default: storage.data_path, else <config-dir>/data)",
    )


def config_dir_of(args: argparse.Namespace) -> Path:
    given = getattr(args, "config_dir", None) or os.environ.get("LUNAROUTE_CONFIG_DIR")
    return Path(given or DEFAULT_CONFIG_DIR).expanduser()


def data_dir_of(args: argparse.Namespace) -> Path | None:
    given = getattr(args, "data_dir", None)
    return Path(given).expanduser() if given else None


def print_error(message: str) -> None:
    print(f"{PROG}: {' '.join(str(message).split())}", file=sys.stderr)


def config_error(err: ConfigError) -> int:
    """The contract's answer to a bad config: one line naming file, field, reason; exit 2."""
    print_error(str(err))
    return 2
