"""What a routing rule can look at for one request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import features


@dataclass(slots=True)
class RouteRequest:
    """The routable properties of one request.

    `headers` keys are lower-case (the ingress normalises them). `listener_type` is the
    dialect of the endpoint that was called: "openai" or "anthropic".

    The body-derived features are computed on first use and remembered, so a table whose
    rules never test them never walks the body.
    """

    listener_id: str
    listener_type: str
    model: str
    headers: Mapping[str, str]
    key_id: str | None = None
    tenant: str | None = None
    body: dict[str, Any] | None = None
    _has_tools: bool | None = field(default=None, init=False, repr=False, compare=False)
    _has_images: bool | None = field(default=None, init=False, repr=False, compare=False)
    _prompt_tokens: int | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def has_tools(self) -> bool:
        if self._has_tools is None:
            self._has_tools = features.has_tools(self.body)
        return self._has_tools

    @property
    def has_images(self) -> bool:
        if self._has_images is None:
            self._has_images = features.has_images(self.body)
        return self._has_images

    @property
    def prompt_tokens(self) -> int:
        """Estimated prompt tokens (see `features.estimate_prompt_tokens`)."""
        if self._prompt_tokens is None:
            self._prompt_tokens = features.estimate_prompt_tokens(self.body)
        return self._prompt_tokens
