"""The config store: the files of the config directory → one validated, typed `Config`.

`load_config(config_dir, data_dir=None)` reads everything (CONTRACT §3, docs/CONFIG.md),
`ConfigWatcher` reloads it when a file changes, `write_default_config` writes the commented
defaults `lunaroute init` installs.

Names are resolved on first use (PEP 562), so importing a light submodule such as
`lunaroute.config.vocabulary` (the CLI does, at start-up) does not load the validators.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

_EXPORTS = {
    "ConfigExistsError": "defaults",
    "write_default_config": "defaults",
    "DEFAULT_NAMES": "files",
    "STEMS": "files",
    "discover": "files",
    "load_config": "loader",
    "ConfigWatcher": "watcher",
    **dict.fromkeys(
        (
            "ApiKey",
            "Config",
            "HealthCheckConfig",
            "ListenerConfig",
            "ObservabilityConfig",
            "PerformanceConfig",
            "PiiConfig",
            "ProviderConfig",
            "ServerConfig",
            "StateConfig",
            "StorageConfig",
            "TlsConfig",
        ),
        "schema",
    ),
}

__all__ = ["ConfigError", *_EXPORTS]  # noqa: PLE0604 (names resolved lazily by __getattr__)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lunaroute.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from .defaults import ConfigExistsError, write_default_config  # noqa: F401
    from .files import DEFAULT_NAMES, STEMS, discover  # noqa: F401
    from .loader import load_config  # noqa: F401
    from .schema import (  # noqa: F401
        ApiKey,
        Config,
        HealthCheckConfig,
        ListenerConfig,
        ObservabilityConfig,
        PerformanceConfig,
        PiiConfig,
        ProviderConfig,
        ServerConfig,
        StateConfig,
        StorageConfig,
        TlsConfig,
    )
    from .watcher import ConfigWatcher  # noqa: F401
