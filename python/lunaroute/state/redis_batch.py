"""Script calls of concurrent requests, sent together: one pipeline per event-loop turn.

Every admit and settle is one EVALSHA; requests in flight at the same time would each pay the
client's per-command cost and a connection of their own. Calls made during one turn of the
event loop are queued and go out as a single pipeline (no MULTI: each script is atomic on its
own) at the end of the turn, so a busy gateway pays one write and one read for many requests,
and a lone request is not delayed at all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

Call = tuple[str, list[Any], list[Any], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, redis: Redis, scripts: dict[str, str], deadline: float) -> None:
        """`scripts`: sha1 → source, for reloading after a Redis restart (NOSCRIPT);
        `deadline`: the longest a batch may take, whatever the socket timeouts allow."""
        self.redis = redis
        self.scripts = scripts
        self.deadline = deadline
        self._queue: list[Call] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def call(self, sha: str, keys: list[Any], args: list[Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((sha, keys, args, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._send)
        return future

    def _send(self) -> None:
        self._scheduled = False
        batch, self._queue = self._queue, []
        batch = [call for call in batch if not call[3].done()]  # the caller gave up already
        if batch:
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[Call]) -> None:
        try:
            # One timer per batch rather than one per request.
            async with asyncio.timeout(self.deadline):
                results = await self._execute(batch)
                missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
                if missing:  # Redis restarted and forgot the scripts: load them, send those again
                    for source in self.scripts.values():
                        await self.redis.script_load(source)
                    again = await self._execute([batch[i] for i in missing])
                    for i, result in zip(missing, again):
                        results[i] = result
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except asyncio.CancelledError:
            for *_, future in batch:
                future.cancel()
            raise
        for (*_, future), result in zip(batch, results):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[Call]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for sha, keys, args, _ in batch:
                pipe.evalsha(sha, len(keys), *keys, *args)
            return list(await pipe.execute(raise_on_error=False))

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except (asyncio.CancelledError, RedisError, OSError):
                pass
