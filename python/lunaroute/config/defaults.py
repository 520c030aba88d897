"""`write_default_config`: the files and folders `lunaroute init` creates."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import orjson

from ..errors import ConfigError
from . import templates
from .atomic import write_atomic
from .files import DEFAULT_NAMES, EXTENSIONS, STEMS

SESSION_KEY_BYTES = 32
WRITTEN_STEMS = ("server", "routes", "keys", "budgets")
FOLDERS = ("data", "certs", "keys")


class ConfigExistsError(ConfigError):
    """`init` without `--force` found config files already in place."""


def existing_config_files(config_dir: Path) -> list[Path]:
    """Every config file (any stem, any extension) present in `config_dir`."""
    if not config_dir.is_dir():
        return []
    return [
        config_dir / f"{stem}{ext}" for stem in STEMS for ext in EXTENSIONS if (config_dir / f"{stem}{ext}").exists()
    ]


def write_default_config(config_dir: Path, force: bool = False) -> list[Path]:
    """Write the default config files and folders; returns the files written.

    Without `force`, refuses (ConfigExistsError) when any of the files LunaRoute would write
    already exists under any extension. With `force` they are replaced (other-extension
    twins removed so the directory stays unambiguous), but an existing `keys/session.key`
    is always kept: replacing it would make every encrypted recording unreadable.
    """
    config_dir = Path(config_dir).expanduser()
    present = [p for p in existing_config_files(config_dir) if p.stem in WRITTEN_STEMS]
    if present and not force:
        names = ", ".join(p.name for p in present)
        raise ConfigExistsError(str(config_dir), "", f"{names} already exist (use --force to overwrite)")
    try:
        config_dir.mkdir(parents=True, exist_ok=True)
        for folder in FOLDERS:
            (config_dir / folder).mkdir(exist_ok=True)
        os.chmod(config_dir / "keys", 0o700)
        for path in present:
            if path.name != DEFAULT_NAMES[path.stem]:
                path.unlink()
        contents = {
            "server": templates.SERVER_YAML.encode(),
            "routes": _json(templates.ROUTES),
            "keys": _json(templates.KEYS),
            "budgets": _json(templates.BUDGETS),
        }
        written = []
        for stem in WRITTEN_STEMS:
            path = config_dir / DEFAULT_NAMES[stem]
            # keys.json holds hashes only, but there is no reason for others to read it.
            write_atomic(path, contents[stem], 0o600 if stem == "keys" else 0o644)
            written.append(path)
        key_file = config_dir / "keys" / "session.key"
        if not key_file.exists():
            _write_session_key(key_file)
            written.append(key_file)
    except OSError as exc:
        where = exc.filename or config_dir
        raise ConfigError(str(where), "", f"cannot write: {exc.strerror or exc}") from None
    return written


def _json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def _write_session_key(path: Path) -> None:
    # O_EXCL + 0600 at creation: the key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(SESSION_KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
