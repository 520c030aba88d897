"""Model prices: the table shipped in `prices.json`, extended or overridden by config `pricing`.

Prices are USD per million tokens. Usage follows `model.response.Usage`: `input_tokens` is the
whole prompt, cache reads and cache writes included, so the uncached part is what remains.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

log = logging.getLogger("lunaroute.limits")

PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")
CONFIG_VENDOR = "config"
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_LOOKUP_CACHE = 4096


@dataclass(frozen=True, slots=True)
class ModelPrice:
    model: str
    vendor: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    cheaper: str | None = None

    @property
    def blended(self) -> float:
        """What "cheaper" compares: input plus output price."""
        return self.input + self.output


class PriceTable:
    def __init__(self, prices: Mapping[str, ModelPrice], date: str) -> None:
        self.date = date
        self.prices = dict(prices)
        self._resolved: dict[str, ModelPrice | None] = {}
        self._unpriced_warned: set[str] = set()

    @classmethod
    def shipped(cls) -> PriceTable:
        raw = json.loads(resources.files(__package__).joinpath("prices.json").read_text("utf-8"))
        prices: dict[str, ModelPrice] = {}
        for vendor, models in raw["vendors"].items():
            for name, entry in models.items():
                values: dict[str, Any] = {f: float(entry[f]) for f in PRICE_FIELDS}
                prices[name] = ModelPrice(name, vendor, **values, cheaper=entry.get("cheaper"))
        return cls(prices, raw["date"])

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> PriceTable:
        """A table where each `pricing` entry replaces the fields it names.

        A model the table does not know needs `input` and `output` (the config parser checks);
        its cache prices default to the input price, as a provider without caching bills them.
        """
        prices = dict(self.prices)
        for name, entry in overrides.items():
            known = prices.get(name)
            fields: dict[str, Any] = {f: float(entry[f]) for f in PRICE_FIELDS if entry.get(f) is not None}
            if entry.get("cheaper") is not None:
                fields["cheaper"] = entry["cheaper"]
            if known is not None:
                prices[name] = replace(known, **fields)
            else:
                base_input = fields["input"]
                prices[name] = ModelPrice(
                    name,
                    CONFIG_VENDOR,
                    base_input,
                    fields["output"],
                    fields.get("cache_read", base_input),
                    fields.get("cache_write", base_input),
                    cheaper=fields.get("cheaper"),
                )
        return PriceTable(prices, self.date)

    def lookup(self, model: str) -> ModelPrice | None:
        """The price of `model`, also under its dated or suffixed names.

        `gpt-4o-2024-08-06` and `claude-sonnet-4-5-20250929` are priced as `gpt-4o` and
        `claude-sonnet-4-5`; otherwise the longest known name that `model` extends at a `-`
        (`claude-sonnet-4-0` → `claude-sonnet-4`). A `vendor/` prefix is ignored.
        """
        try:
            return self._resolved[model]
        except KeyError:
            pass
        found = self._resolve(model)
        if len(self._resolved) < _LOOKUP_CACHE:
            self._resolved[model] = found
        return found

    def _resolve(self, model: str) -> ModelPrice | None:
        name = model.rsplit("/", 1)[-1] if "/" in model else model
        for candidate in (model, name, _DATE_SUFFIX.sub("", name)):
            if candidate in self.prices:
                return self.prices[candidate]
        stem = _DATE_SUFFIX.sub("", name)
        while "-" in stem:
            stem = stem.rsplit("-", 1)[0]
            if stem in self.prices:
                return self.prices[stem]
        return None

    def price_of(self, provider: str | None, model: str) -> ModelPrice | None:
        """A `provider/model` entry first (a local server may serve a known name for free),
        then the model's own price."""
        if provider is not None:
            qualified = self.prices.get(f"{provider}/{model}")
            if qualified is not None:
                return qualified
        return self.lookup(model)

    def cost_cents(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        *,
        provider: str | None = None,
    ) -> float:
        """US cents for one answer's usage; 0 (with one warning per model) when unpriced."""
        price = self.price_of(provider, model)
        if price is None:
            if model not in self._unpriced_warned and len(self._unpriced_warned) < _LOOKUP_CACHE:
                self._unpriced_warned.add(model)
                log.warning("no price for model %r: its cost counts as 0 (add it under `pricing`)", model)
            return 0.0
        uncached = max(0, input_tokens - cache_read_tokens - cache_write_tokens)
        micro_usd = (  # tokens x USD per million = millionths of a dollar
            uncached * price.input
            + cache_read_tokens * price.cache_read
            + cache_write_tokens * price.cache_write
            + output_tokens * price.output
        )
        return micro_usd / 10_000.0

    def cheaper(self, model: str) -> str | None:
        """The model `reroute_to_cheaper` moves `model` to: the table's `cheaper` hint, else
        the most expensive model of the same vendor that still costs less."""
        price = self.lookup(model)
        if price is None:
            return None
        if price.cheaper is not None and price.cheaper in self.prices:
            return price.cheaper
        below = [p for p in self.prices.values() if p.vendor == price.vendor and p.blended < price.blended]
        if not below:
            return None
        return max(below, key=lambda p: (p.blended, p.model)).model
