"""Names and enumerations of the config vocabulary shared with the command line.

Kept free of heavy imports: the CLI builds its argument choices from these at start-up.
"""

from __future__ import annotations

import re

# `admin` opens the web UI (docs/UI.md); it is never given unless asked for.
SCOPES = ("openai_ingress", "anthropic_ingress", "admin")
DEFAULT_SCOPES = ("openai_ingress", "anthropic_ingress")
LOG_LEVELS = ("debug", "info", "warning", "warn", "error", "critical")
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
BUDGET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
