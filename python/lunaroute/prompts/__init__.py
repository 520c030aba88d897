"""prompts.json: system-prompt patches (prepend, append, replace), selected by routing's
conditions and applied to the parsed request before routing. docs/PROMPTS.md."""

from .parse import parse_prompts
from .patches import Patched, PromptPatch, PromptPatches, SystemPatcher

__all__ = ["Patched", "PromptPatch", "PromptPatches", "SystemPatcher", "parse_prompts"]
