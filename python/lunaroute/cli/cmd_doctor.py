"""`lunaroute doctor`: backends, SIMD level, config validation (see lunaroute.doctor)."""

from __future__ import annotations

import argparse

from .common import config_dir_of, data_dir_of


def register(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        parents=parents,
        help="check the installation and the config",
        description="Print the package and native versions, the backend serving each kernel, "
        "the detected SIMD level and the config validation result.",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .. import doctor

    return doctor.run(config_dir_of(args), data_dir_of(args))
