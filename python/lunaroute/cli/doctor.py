"""`lunaroute doctor` and `python -m lunaroute.doctor`: what this installation runs on.

Prints the package and native-extension versions, the tier serving each kernel (a fallback
marked as such; the Rust ones with their SIMD level), the SIMD level in use and the levels
this CPU runs (LUNAROUTE_SIMD, docs/KERNELS.md), the versions of the libraries LunaRoute
leans on, and the result of validating the config directory. Exit code: 0 when everything is
usable (a missing config directory is fine: `serve` writes one), 2 for an invalid config, 1
when the kernels cannot load at all.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from .. import __version__
from ..errors import ConfigError
from .common import Parser, add_dir_options, config_dir_of, data_dir_of

LIBRARIES = (
    "granian",
    "httpx",
    "h2",
    "orjson",
    "pyyaml",
    "zstandard",
    "cryptography",
    "argon2-cffi",
    "prometheus-client",
    "uvloop",
    "watchfiles",
)


def _native_line() -> str:
    try:
        native = importlib.import_module("lunaroute._native")
    except ImportError as exc:
        return f"not available ({exc})"
    version = getattr(native, "__version__", "?")
    try:
        supported = bool(native.cpu_supported())
    except Exception as exc:  # a broken extension is exactly what doctor must report
        return f"{version} (cpu check failed: {exc})"
    note = "" if version == __version__ else f"; version mismatch with lunaroute {__version__}"
    return f"{version} (cpu supported: {'yes' if supported else 'no'}{note})"


def _cython_line(kernels: list[str]) -> str:
    built = []
    for name in kernels:
        try:
            importlib.import_module(f"lunaroute._cy.{name}")
        except ImportError:
            continue
        built.append(name)
    return ", ".join(built) if built else "none built"


def _library_versions() -> list[str]:
    out = []
    for name in LIBRARIES:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} (missing)")
    return out


def _kernel_lines() -> tuple[list[str], bool]:
    """(report lines, ok)."""
    try:
        from .. import kernels
    except ImportError as exc:
        return [f"kernels: ERROR {' '.join(str(exc).split())}"], False
    from ..kernels import _simd

    lines = ["kernels:"]
    forced = [f"{k}={os.environ[k]}" for k in ("LUNAROUTE_BACKEND", "LUNAROUTE_NATIVE", _simd.ENV) if k in os.environ]
    if forced:
        lines[0] = f"kernels ({', '.join(forced)}):"
    try:
        level = str(kernels.simd_level())
    except Exception as exc:  # a broken extension is exactly what doctor must report
        level = f"unknown ({exc})"
    for kernel, backend in kernels.backends().items():
        lines.append(f"  {kernel:<8} {_tier(kernel, backend, level)}".rstrip())
    lines.append(f"cython modules: {_cython_line(list(kernels.KERNELS))}")
    lines.append(f"simd level: {_simd_line(level, kernels.backend_of('scan'))}")
    return lines, True


def _tier(kernel: str, backend: str, level: str) -> str:
    """A kernel's tier, with the vector level its Rust code runs and a fallback marked as such."""
    from ..kernels import _simd

    if backend == "rust":
        return f"{backend:<7} simd {level}" if kernel in _simd.SIMD_KERNELS else backend
    forced = os.environ.get("LUNAROUTE_BACKEND") or os.environ.get("LUNAROUTE_NATIVE") == "0"
    return backend if forced else f"{backend:<7} (fallback: the Rust tier did not load, see above)"


def _simd_line(level: str, scan_backend: str) -> str:
    from ..kernels import _simd

    cpu = ", ".join(_simd.cpu_levels())
    why = _simd.mismatch(level, scan_backend)
    if why is not None:
        return f"{level} ({why})"
    if _simd.requested() is not None:
        return f"{level} (forced by {_simd.ENV}={_simd.requested()}; this CPU runs {cpu})"
    return f"{level} (this CPU runs {cpu}; {_simd.ENV}=<level> forces a lower one)"


def _config_line(config_dir: Path, data_dir: Path | None) -> tuple[str, int]:
    from ..config import load_config
    from ..config.defaults import existing_config_files

    if not existing_config_files(config_dir):
        return (f"config: none at {config_dir} (`lunaroute init` or `lunaroute serve` writes the defaults)"), 0
    try:
        config = load_config(config_dir, data_dir)
    except ConfigError as err:
        return f"config: INVALID {' '.join(str(err).split())}", 2
    summary = (
        f"{len(config.listeners)} listeners, {len(config.providers)} providers, "
        f"{len(config.routes)} routes, {len(config.keys)} keys, {len(config.budgets)} budgets"
    )
    missing = sorted(
        f"{p.name}:{p.api_key_env}" for p in config.providers.values() if p.api_key is None and p.api_key_env
    )
    lines = [f"config: OK {config.config_dir} ({summary})", f"data dir: {config.data_dir}"]
    if missing:
        lines.append("provider keys not set (client credentials are passed through): " + ", ".join(missing))
    return "\n".join(lines), 0


def report(config_dir: Path, data_dir: Path | None = None) -> int:
    """Print the report; the exit code."""
    print(
        f"lunaroute {__version__} (python {platform.python_version()}, "
        f"{platform.system().lower()}-{platform.machine()})"
    )
    print(f"native extension: {_native_line()}")
    kernel_lines, kernels_ok = _kernel_lines()
    print("\n".join(kernel_lines))
    print("libraries: " + ", ".join(_library_versions()))
    line, code = _config_line(config_dir, data_dir)
    print(line)
    if code:
        print(f"lunaroute: {line.removeprefix('config: INVALID ')}", file=sys.stderr)
        return code
    return 0 if kernels_ok else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        parents=parents,
        help="check the installation and the config",
        description="Print the package and native versions, the backend serving each kernel, "
        "the detected SIMD level and the config validation result.",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return report(config_dir_of(args), data_dir_of(args))


def main(argv: list[str] | None = None) -> int:
    """`python -m lunaroute.doctor` (the same report as `lunaroute doctor`)."""
    parser = Parser(prog="python -m lunaroute.doctor", description=__doc__.splitlines()[0])
    add_dir_options(parser)
    return run(parser.parse_args(argv))
