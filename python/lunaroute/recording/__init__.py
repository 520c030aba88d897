"""Session recording (CONTRACT §6): every proxied exchange kept, compressed, optionally
encrypted, indexed, and exported. docs/RECORDING.md describes the layout, the file format,
the command line and the policies.

- `Recorder` (recorder.py): the gateway's observer; queue → writer thread → files + index.
- `FileSessionStore` (store.py): `<data>/sessions/YYYY/MM/DD/<id>.session` (+ `.stream`).
- `SessionIndex` (index.py): SQLite, rebuildable from the files (`maintenance.reindex`).
- `open_reader` (query.py): what `lunaroute export` / `sessions` read through.
"""

from __future__ import annotations

from .capture import new_session_id
from .format import Codec, RecordError
from .index import SessionFilter, SessionIndex
from .keys import KeyRing
from .recorder import Recorder, RecorderSettings
from .store import FileSessionStore

__all__ = [
    "Codec",
    "FileSessionStore",
    "KeyRing",
    "Recorder",
    "RecorderSettings",
    "RecordError",
    "SessionFilter",
    "SessionIndex",
    "new_session_id",
]
