"""The mock's `POST /v1/embeddings`, driven by the official openai SDK."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.mock_upstream.openai_embeddings import embedding_vector
from tests.mock_upstream.sdk_clients import openai_client


def test_sdk_default_base64_decodes_to_the_deterministic_vectors(mock_upstream):
    client = openai_client(mock_upstream)
    out = client.embeddings.create(model="text-embedding-3-small", input=["hello world", "bye"])
    assert [d.index for d in out.data] == [0, 1]
    assert out.data[0].embedding == embedding_vector("hello world", 8)
    assert out.data[1].embedding == embedding_vector("bye", 8)
    assert out.usage.prompt_tokens == 3 and out.model == "text-embedding-3-small"
    sent = mock_upstream.requests("/v1/embeddings")[-1]["json"]
    assert sent["encoding_format"] == "base64"  # what the SDK asks for unless told otherwise


def test_float_format_dimensions_and_token_input(mock_upstream):
    client = openai_client(mock_upstream)
    out = client.embeddings.create(model="m", input=[1, 2, 3], encoding_format="float", dimensions=40)
    assert len(out.data) == 1 and out.data[0].embedding == embedding_vector("1 2 3", 40)
    assert len(out.data[0].embedding) == 40


def test_bad_requests_are_refused_like_the_api(mock_upstream):
    client = openai_client(mock_upstream)
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="m", input="")
    assert info.value.body["param"] == "input"
    r = httpx.post(
        mock_upstream.url + "/v1/embeddings",
        json={"model": "m", "input": "x", "colour": 1},
        headers={"authorization": "Bearer k"},
        trust_env=False,
    )
    assert r.status_code == 400 and "colour" in r.json()["error"]["message"]
    r = httpx.get(mock_upstream.url + "/v1/embeddings", headers={"authorization": "Bearer k"}, trust_env=False)
    assert r.status_code == 405
