"""Hot reload with real file edits: a good edit reaches on_change, a broken one on_error."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lunaroute.config import Config, ConfigError, ConfigWatcher
from lunaroute.config.watcher import fingerprint

from .config_testkit import read_server, write_server

TIMEOUT = 15.0


class Recorder:
    def __init__(self) -> None:
        self.changes: asyncio.Queue[Config] = asyncio.Queue()
        self.errors: asyncio.Queue[ConfigError] = asyncio.Queue()

    def on_change(self, config: Config) -> None:
        self.changes.put_nowait(config)

    def on_error(self, err: ConfigError) -> None:
        self.errors.put_nowait(err)


def test_edits_reload_and_broken_edits_report(cfg_dir: Path) -> None:
    async def scenario() -> None:
        rec = Recorder()
        watcher = ConfigWatcher(cfg_dir, None, rec.on_change, rec.on_error, debounce_ms=50)
        await watcher.start()
        try:
            doc = read_server(cfg_dir)
            doc["providers"][0]["timeout_ms"] = 1234
            write_server(cfg_dir, doc)
            config = await asyncio.wait_for(rec.changes.get(), TIMEOUT)
            assert config.providers["openai"].timeout_ms == 1234

            (cfg_dir / "routes.json").write_text("{ broken")
            err = await asyncio.wait_for(rec.errors.get(), TIMEOUT)
            assert err.file == "routes.json" and "invalid JSON" in str(err)

            (cfg_dir / "routes.json").write_text(
                '{"rules": [{"id": "only", "match": {"model": "*"}, "target": {"provider": "anthropic"}}]}'
            )
            config = await asyncio.wait_for(rec.changes.get(), TIMEOUT)
            assert [r.id for r in config.routes] == ["only"]
        finally:
            await watcher.stop()
        assert rec.changes.empty() and rec.errors.empty()

    asyncio.run(scenario())


def test_files_outside_the_config_set_are_ignored(cfg_dir: Path) -> None:
    async def scenario() -> None:
        rec = Recorder()
        watcher = ConfigWatcher(cfg_dir, None, rec.on_change, rec.on_error, debounce_ms=50)
        await watcher.start()
        try:
            (cfg_dir / "notes.txt").write_text("not config")
            (cfg_dir / "data" / "server.yaml").write_text("in a sub-folder: not config")
            (cfg_dir / "keys.json").touch()  # same bytes: no reload either
            await asyncio.sleep(1.0)
            assert rec.changes.empty() and rec.errors.empty()
            assert await watcher.reload(force=True)  # an explicit reload still works
            assert not rec.changes.empty()
        finally:
            await watcher.stop()

    asyncio.run(scenario())


def test_fingerprint_tracks_config_files_only(cfg_dir: Path) -> None:
    before = fingerprint(cfg_dir)
    (cfg_dir / "README").write_text("x")
    assert fingerprint(cfg_dir) == before
    (cfg_dir / "prompts.json").write_text("{}")
    assert fingerprint(cfg_dir) != before


def test_stop_without_start_and_double_start(cfg_dir: Path) -> None:
    async def scenario() -> None:
        watcher = ConfigWatcher(cfg_dir, None, lambda c: None, lambda e: None)
        await watcher.stop()
        await watcher.start()
        await watcher.start()
        await watcher.stop()
        await watcher.stop()

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
