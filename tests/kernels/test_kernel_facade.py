"""The facade `lunaroute.kernels`: which backend serves each kernel, and how to force one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import lunaroute.kernels as kernels

from .kernel_backends import BACKENDS, in_ci, load

PROBE = "import json, lunaroute.kernels as k; print(json.dumps(k.backends()))"


def probe(**env: str) -> subprocess.CompletedProcess[str]:
    forcing = ("LUNAROUTE_BACKEND", "LUNAROUTE_NATIVE")
    clean = {k: v for k, v in os.environ.items() if k not in forcing}
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=dict(clean, **env), capture_output=True, text=True, timeout=60
    )


def test_every_kernel_has_a_backend() -> None:
    assert set(kernels.backends()) == set(kernels.KERNELS)
    for kernel in kernels.KERNELS:
        assert kernels.backend_of(kernel) in BACKENDS


def test_exported_names_come_from_the_chosen_backend() -> None:
    for kernel, names in kernels.KERNELS.items():
        mod = kernels.module_for(kernel, kernels.backend_of(kernel))
        for name in names:
            assert getattr(kernels, name) is getattr(mod, name), (kernel, name)


def test_fastest_built_backend_wins() -> None:
    for kernel in kernels.KERNELS:
        fastest = next(b for b in BACKENDS if load(kernel, b) is not None)
        assert kernels.backend_of(kernel) == fastest, kernel
        if in_ci():
            assert kernels.backend_of(kernel) == "rust", kernel


def test_module_for_rejects_unknown_names() -> None:
    with pytest.raises(ValueError):
        kernels.module_for("sse", "fortran")
    with pytest.raises(ValueError):
        kernels.module_for("nope", "python")


@pytest.mark.parametrize(
    "env",
    [
        {"LUNAROUTE_BACKEND": "python"},
        {"LUNAROUTE_NATIVE": "0"},
        {"LUNAROUTE_BACKEND": "rust", "LUNAROUTE_NATIVE": "0"},
    ],
)
def test_forcing_python(env: dict[str, str]) -> None:
    done = probe(**env)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout).values()) == {"python"}


def test_unknown_forced_backend_fails_loudly() -> None:
    done = probe(LUNAROUTE_BACKEND="fortran")
    assert done.returncode != 0 and "ImportError" in done.stderr and "fortran" in done.stderr


@pytest.mark.parametrize("backend", ["rust", "cython"])
def test_forced_native_backend_never_degrades(backend: str) -> None:
    done = probe(LUNAROUTE_BACKEND=backend)
    built = all(load(k, backend) is not None for k in kernels.KERNELS)
    if built:
        assert done.returncode == 0, done.stderr
        assert set(json.loads(done.stdout).values()) == {backend}
    else:
        assert done.returncode != 0 and "ImportError" in done.stderr
        assert f"LUNAROUTE_BACKEND={backend}" in done.stderr
