"""Build script: the Rust extension (optional) and the Cython modules.

Why setuptools and not maturin alone: maturin cannot compile Cython, and the install must
still succeed without a Rust toolchain (the Cython and Python tiers then serve). The Rust
extension is `optional=True`, so a failed or impossible cargo build only drops that tier.
Set LUNAROUTE_NO_RUST=1 or LUNAROUTE_NO_CYTHON=1 to skip a tier on purpose, and
LUNAROUTE_REQUIRE_NATIVE=1 (production builds, CI) to make a missing or failed Rust build an
error instead of a warning.

The Cython modules are optional in the same way: without a C compiler (an sdist installed
where there is none) they are skipped with a warning and the pure-Python tier serves.
Neither tier uses the limited API (docs/INSTALL.md, "Wheels"): each wheel is for one CPython.
"""
import os
import shlex
import shutil
import sys
import sysconfig

from setuptools import Extension, setup

REQUIRE_NATIVE = os.environ.get("LUNAROUTE_REQUIRE_NATIVE") == "1"


def c_compiler() -> str | None:
    """The C compiler this Python builds extensions with, if it is on PATH."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    words = shlex.split(cc)
    return shutil.which(words[0]) if words else None


ext_modules = []
if os.environ.get("LUNAROUTE_NO_CYTHON") != "1":
    try:
        from Cython.Build import cythonize
    except ImportError:  # pragma: no cover - Cython is a build requirement
        cythonize = None
    if cythonize is not None and (c_compiler() or REQUIRE_NATIVE):
        names = ["sse", "scan", "bufpool", "breaker", "matcher", "http1", "xlate"]
        exts = [
            Extension(
                f"lunaroute._cy.{n}",
                [f"cython/{n}.pyx"],
                extra_compile_args=["-O3"],
                # a compiler that fails on one module costs that module's tier only
                optional=not REQUIRE_NATIVE,
            )
            for n in names
            if os.path.exists(f"cython/{n}.pyx")
        ]
        ext_modules = cythonize(
            exts,
            compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
            quiet=True,
        )
    elif cythonize is not None:
        print(
            "lunaroute: WARNING: building WITHOUT the Cython tier (no C compiler found); "
            "where the Rust tier does not serve, the pure-Python kernels will.",
            file=sys.stderr,
        )

NATIVE_HINT = (
    "lunaroute: WARNING: building WITHOUT the Rust tier ({why}); the slower Cython/Python "
    "kernels will serve. Install a Rust toolchain (https://rustup.rs or your distribution's "
    "cargo) and reinstall, or set LUNAROUTE_REQUIRE_NATIVE=1 to make this an error."
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
                # A failed Rust build leaves the Cython and Python tiers (setuptools-rust
                # prints the failure); LUNAROUTE_REQUIRE_NATIVE=1 makes it fatal.
                optional=not REQUIRE_NATIVE,
                debug=False,
            )
        )
elif os.environ.get("LUNAROUTE_NO_RUST") != "1":
    if REQUIRE_NATIVE:
        sys.exit("lunaroute: LUNAROUTE_REQUIRE_NATIVE=1 but cargo was not found: cannot build the Rust tier")
    print(NATIVE_HINT.format(why="cargo not found"), file=sys.stderr)

# The Cython modules compile in parallel, one per core (the Rust build runs its own jobs).
setup(ext_modules=ext_modules, rust_extensions=rust_extensions, options={"build_ext": {"parallel": os.cpu_count() or 1}})
