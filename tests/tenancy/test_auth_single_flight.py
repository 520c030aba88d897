"""A new client key is verified (argon2) once, however many requests bring it at once: 16
connections opening together used to start 16 argon2 runs of 64 MiB each."""

from __future__ import annotations

import asyncio

import pytest

from lunaroute.config.schema import ApiKey
from lunaroute.dialects import get_dialect
from lunaroute.errors import AuthenticationError
from lunaroute.tenancy.auth import Authenticator
from lunaroute.tenancy.keys import generate_key, hash_key


class CountingAuthenticator(Authenticator):
    """Counts the real argon2 verifications."""

    def __init__(self, keys: list[ApiKey]) -> None:
        super().__init__(keys)
        self.verifications = 0

    def _verify(self, credential: str) -> ApiKey | None:
        self.verifications += 1
        return super()._verify(credential)


@pytest.fixture(scope="module")
def key() -> tuple[str, ApiKey]:
    secret = generate_key()
    return secret, ApiKey(id="k1", name="one", key_hash=hash_key(secret))


def test_concurrent_first_requests_share_one_verification(key: tuple[str, ApiKey]) -> None:
    secret, entry = key
    auth = CountingAuthenticator([entry])
    dialect = get_dialect("openai")

    async def many() -> list[ApiKey]:
        headers = {"authorization": f"Bearer {secret}"}
        return await asyncio.gather(*(auth.authenticate(headers, dialect) for _ in range(16)))

    found = asyncio.run(many())
    assert [k.id for k in found] == ["k1"] * 16
    assert auth.verifications == 1
    asyncio.run(auth.authenticate({"authorization": f"Bearer {secret}"}, dialect))
    assert auth.verifications == 1  # cached afterwards


def test_a_wrong_key_is_refused_once_for_all_waiters(key: tuple[str, ApiKey]) -> None:
    auth = CountingAuthenticator([key[1]])
    dialect = get_dialect("anthropic")

    async def many() -> list[object]:
        headers = {"x-api-key": "lr-" + "x" * 40}
        return await asyncio.gather(*(auth.authenticate(headers, dialect) for _ in range(8)), return_exceptions=True)

    results = asyncio.run(many())
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert auth.verifications == 1


def test_a_waiter_that_gives_up_does_not_cancel_the_others(key: tuple[str, ApiKey]) -> None:
    secret, entry = key
    auth = CountingAuthenticator([entry])
    dialect = get_dialect("openai")

    async def scenario() -> ApiKey:
        headers = {"authorization": f"Bearer {secret}"}
        first = asyncio.ensure_future(auth.authenticate(headers, dialect))
        second = asyncio.ensure_future(auth.authenticate(headers, dialect))
        await asyncio.sleep(0)
        first.cancel()  # the client of the request that started the verification left
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert asyncio.run(scenario()).id == "k1"
    assert auth.verifications == 1
