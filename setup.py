"""Build script: the Rust extension (optional) and the Cython modules.

Why setuptools and not maturin alone: maturin cannot compile Cython, and the install must
still succeed without a Rust toolchain (the Cython and Python tiers then serve). The Rust
extension is `optional=True`, so a failed or impossible cargo build only drops that tier.
Set LUNAROUTE_NO_RUST=1 or LUNAROUTE_NO_CYTHON=1 to skip a tier on purpose.
"""
import os
import shutil
import sys

from setuptools import Extension, setup

ext_modules = []
if os.environ.get("LUNAROUTE_NO_CYTHON") != "1":
    try:
        from Cython.Build import cythonize
    except ImportError:  # pragma: no cover - Cython is a build requirement
        cythonize = None
    if cythonize is not None:
        names = ["sse", "scan", "bufpool", "breaker", "matcher", "http1"]
        exts = [
            Extension(
                f"lunaroute._cy.{n}",
                [f"cython/{n}.pyx"],
                extra_compile_args=["-O3"],
            )
            for n in names
            if os.path.exists(f"cython/{n}.pyx")
        ]
        ext_modules = cythonize(
            exts,
            compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
            quiet=True,
        )

rust_extensions = []
if os.environ.get("LUNAROUTE_NO_RUST") != "1" and shutil.which("cargo"):
    try:
        from setuptools_rust import Binding, RustExtension
    except ImportError:  # pragma: no cover
        RustExtension = None
    if RustExtension is not None:
        rust_extensions.append(
            RustExtension(
                "lunaroute._native",
                path="native/Cargo.toml",
                binding=Binding.PyO3,
                # Do not link libpython into the extension (cargo test still links it).
                features=["extension-module"],
                optional=True,
                debug=False,
            )
        )
elif os.environ.get("LUNAROUTE_NO_RUST") != "1":
    print("lunaroute: cargo not found, building without the Rust tier", file=sys.stderr)

setup(ext_modules=ext_modules, rust_extensions=rust_extensions)
