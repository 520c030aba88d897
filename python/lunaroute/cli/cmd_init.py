"""`lunaroute init [--force]`: write the default config files and folders."""

from __future__ import annotations

import argparse

from .common import config_dir_of, print_error


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "init",
        parents=parents,
        help="write the default config",
        description="Write server.yaml, routes.json, keys.json, budgets.json and the folders "
        "data/, certs/, keys/ (with keys/session.key). Refuses when the files exist.",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing config files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..config.defaults import ConfigExistsError, write_default_config

    config_dir = config_dir_of(args)
    try:
        written = write_default_config(config_dir, force=args.force)
    except ConfigExistsError as err:
        print_error(str(err))
        return 1
    print(f"Configuration written to {config_dir}:")
    for path in written:
        print(f"  {path}")
    print(
        "Next: export OPENAI_API_KEY / ANTHROPIC_API_KEY (or let clients send their own), then run `lunaroute serve`."
    )
    return 0
