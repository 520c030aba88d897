"""Hot reload: watch the config directory, reload the whole config when a file changes.

A change to any config file reloads everything (files refer to each other: routes name
providers, keys name budgets). A good result goes to `on_change`; a broken one goes to
`on_error` and the caller keeps its last good config. Reloads whose files are byte-for-byte
what was last loaded (editors touching files, `keys list`) are skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from watchfiles import awatch

from ..errors import ConfigError
from .files import is_config_name
from .loader import load_config
from .schema import Config

log = logging.getLogger("lunaroute.config")


def fingerprint(config_dir: Path) -> str:
    """A digest of the names and contents of the config files in `config_dir`."""
    digest = hashlib.sha256()
    try:
        names = sorted(p.name for p in config_dir.iterdir() if is_config_name(p.name))
    except OSError:
        return ""
    for name in names:
        digest.update(name.encode() + b"\0")
        try:
            digest.update((config_dir / name).read_bytes())
        except OSError as exc:
            digest.update(f"<unreadable {exc.errno}>".encode())
        digest.update(b"\0")
    return digest.hexdigest()


class ConfigWatcher:
    def __init__(
        self,
        config_dir: Path,
        data_dir: Path | None,
        on_change: Callable[[Config], None],
        on_error: Callable[[ConfigError], None],
        *,
        debounce_ms: int = 200,
    ) -> None:
        self.config_dir = Path(config_dir).expanduser().resolve()
        self.data_dir = data_dir
        self.on_change = on_change
        self.on_error = on_error
        self.debounce_ms = debounce_ms
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last = ""

    async def start(self) -> None:
        """Begin watching. Returns once the OS-level watch is in place."""
        if self._task is not None:
            return
        self._stop.clear()
        self._last = await asyncio.to_thread(fingerprint, self.config_dir)
        self._task = asyncio.create_task(self._run(), name="lunaroute-config-watcher")
        # The first step of the task creates the inotify/kqueue watch synchronously before it
        # awaits anything, so yielding once is enough for edits made after start() to count.
        await asyncio.sleep(0)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        task, self._task = self._task, None
        try:
            await asyncio.wait_for(task, timeout=5)
        except TimeoutError:
            task.cancel()
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        try:
            async for _changes in awatch(
                self.config_dir,
                watch_filter=lambda _change, path: is_config_name(Path(path).name),
                stop_event=self._stop,
                debounce=max(self.debounce_ms, 1),
                step=50,
                recursive=False,  # data/ lives below the config dir and changes constantly
            ):
                await self.reload()
        except asyncio.CancelledError:
            raise
        except Exception:  # the watcher must die loudly in the log, not silently
            log.exception("config watcher stopped unexpectedly")

    async def reload(self, *, force: bool = False) -> bool:
        """Reload now (also used on SIGHUP-like triggers). True when on_change was called."""
        current = await asyncio.to_thread(fingerprint, self.config_dir)
        if current == self._last and not force:
            return False
        self._last = current
        try:
            config = await asyncio.to_thread(load_config, self.config_dir, self.data_dir)
        except ConfigError as err:
            log.error("config reload rejected, keeping the last good config: %s", err)
            self._deliver(self.on_error, err)
            return False
        except Exception as exc:  # a bug in a validator must not look like success
            log.exception("config reload failed")
            self._deliver(
                self.on_error, ConfigError(self.config_dir.name, "", f"unexpected error while loading: {exc!r}")
            )
            return False
        log.info("config reloaded from %s", self.config_dir)
        self._deliver(self.on_change, config)
        return True

    @staticmethod
    def _deliver(callback: Callable[..., None], value: object) -> None:
        try:
            callback(value)
        except Exception:
            log.exception("config reload callback failed")
