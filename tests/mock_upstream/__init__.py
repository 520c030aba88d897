"""A strict mock of the OpenAI Chat Completions and Anthropic Messages APIs.

A real HTTP/1.1 server on loopback that validates requests like the real APIs, answers in
their exact shapes (streaming included) and injects failures on demand. See
docs/MOCK_UPSTREAM.md. Start it with `python -m tests.mock_upstream` or through
`tests.mock_upstream.fixture.MockUpstream`.
"""
