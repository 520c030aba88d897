"""`lunaroute` — the command line (CONTRACT §2).

Every sub-command lives in its own module (`cmd_*.py`, and `doctor.py`, which
`python -m lunaroute.doctor` runs too) with `register(subparsers, parents)` that sets
`run(args) -> int`. Errors never show a traceback: a bad config or bad argument is one line
naming the file (or option), the field and the reason, exit code 2
(`LUNAROUTE_DEBUG=1` adds the traceback of unexpected errors).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from types import ModuleType

from .. import __version__
from ..errors import ConfigError
from . import (
    cmd_budgets,
    cmd_env,
    cmd_export,
    cmd_init,
    cmd_keys,
    cmd_metrics,
    cmd_pii,
    cmd_route,
    cmd_serve,
    cmd_sessions,
    doctor,
)
from .common import PROG, Parser, add_dir_options, config_error, print_error

COMMANDS: tuple[ModuleType, ...] = (
    cmd_serve,
    cmd_init,
    doctor,
    cmd_keys,
    cmd_route,
    cmd_metrics,
    cmd_export,
    cmd_sessions,
    cmd_env,
    cmd_budgets,
    cmd_pii,
)
# Options of the top level / `serve` that take a value (to find the sub-command name).
_VALUE_OPTIONS = frozenset({"--config-dir", "--data-dir", "--log-level"})
_HELP = frozenset({"-h", "--help", "--version"})


def build_parser() -> argparse.ArgumentParser:
    dirs = argparse.ArgumentParser(add_help=False)
    add_dir_options(dirs)
    parser = Parser(
        prog=PROG,
        parents=[dirs],
        description="LunaRoute: an LLM API gateway for the OpenAI and Anthropic dialects. "
        "Without a command, runs `serve`.",
    )
    parser.add_argument("--version", action="version", version=f"lunaroute {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in COMMANDS:
        module.register(sub, [dirs])
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    """`lunaroute [options]` means `lunaroute serve [options]`."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in _VALUE_OPTIONS:
            skip = True
            continue
        if token.startswith("-"):
            if token in _HELP:
                return argv
            continue
        return argv  # a positional: the command name (argparse reports unknown ones)
    return ["serve", *argv]


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(_with_default_command(args_list))
    except SystemExit as exc:  # --help, --version and usage errors (already printed)
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.run(args))
    except ConfigError as err:
        return config_error(err)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `lunaroute keys list | head`: the reader left; nothing more to say.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print_error(f"{exc.strerror or exc}{':' if where else ''}{where}")
        return 1
    except Exception as exc:
        if os.environ.get("LUNAROUTE_DEBUG") == "1":
            traceback.print_exc()
        print_error(f"unexpected error: {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
