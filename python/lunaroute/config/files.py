"""Finding and decoding the files of a config directory (CONTRACT §3).

Each config file is known by its stem (`server`, `routes`, `keys`, `budgets`, `prompts`)
and may be written as `.yaml`, `.yml`, `.json` or `.toml`. Two files with one stem are an
error (which one would win is not obvious to a reader of the directory).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import orjson
import yaml

from ..errors import ConfigError

STEMS = ("server", "routes", "keys", "budgets", "prompts")
REQUIRED_STEMS = ("server", "routes")
EXTENSIONS = (".yaml", ".yml", ".json", ".toml")
# The name each stem gets when LunaRoute writes it (init, keys create).
DEFAULT_NAMES = {
    "server": "server.yaml",
    "routes": "routes.json",
    "keys": "keys.json",
    "budgets": "budgets.json",
    "prompts": "prompts.json",
}
MAX_FILE_BYTES = 16 * 1024 * 1024
# The pure-Python safe loader on purpose: libyaml's CSafeLoader is faster but crashes the
# process (stack overflow) on deeply nested input, where this one raises RecursionError.
_YAML_LOADER = yaml.SafeLoader


def is_config_name(name: str) -> bool:
    stem, dot, ext = name.rpartition(".")
    return bool(dot) and stem in STEMS and f".{ext}" in EXTENSIONS


def discover(config_dir: Path) -> dict[str, Path]:
    """stem → file, for the config files present in `config_dir`."""
    found: dict[str, Path] = {}
    for stem in STEMS:
        matches = [config_dir / f"{stem}{ext}" for ext in EXTENSIONS if (config_dir / f"{stem}{ext}").exists()]
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches)
            raise ConfigError(matches[0].name, "", f"{names} both define '{stem}'; keep only one of them")
        if matches:
            found[stem] = matches[0]
    return found


def read_document(path: Path) -> Any:
    """The decoded content of one config file. An empty file reads as an empty mapping."""
    name = path.name
    if not path.is_file():
        raise ConfigError(name, "", "is not a regular file")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(name, "", f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return decode(raw, name)


def decode(raw: bytes, name: str) -> Any:
    """Decode `raw` by the extension of `name`; every failure is a one-line ConfigError."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(name, "", f"not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        return {}
    ext = name.rsplit(".", 1)[-1].lower()
    try:
        if ext == "json":
            return orjson.loads(text)
        if ext == "toml":
            return tomllib.loads(text)
        return yaml.load(text, Loader=_YAML_LOADER)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(name, "", f"invalid JSON: {_one_line(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "", f"invalid TOML: {_one_line(exc)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, "", f"invalid YAML: {_yaml_reason(exc)}") from None
    except RecursionError:
        raise ConfigError(name, "", "nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # YAML constructors raise these for things like out-of-range timestamps.
        raise ConfigError(name, "", f"cannot decode: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if problem and mark is not None:
        return f"{' '.join(problem.split())} (line {mark.line + 1}, column {mark.column + 1})"
    return _one_line(exc)
