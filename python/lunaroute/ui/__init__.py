"""The web UI (docs/UI.md): sessions, costs and health in a browser, served by LunaRoute on
its own listener (`ui.bind`) when `ui.enabled` is on.

- `UiApp` (app.py): the RSGI application; pages in pages_activity.py / pages_status.py.
- auth.py: when a login is needed, and admin sessions.
- recordings.py, rollup.py: what the pages read of the session index and files.
"""

from __future__ import annotations

from .app import UiApp

__all__ = ["UiApp"]
