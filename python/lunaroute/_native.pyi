"""Type stub of `lunaroute._native`, the Rust (PyO3) tier of LunaRoute's kernels.

The contract every backend keeps is docs/KERNELS.md; errors come from `lunaroute.errors`.
"""
from collections.abc import Sequence
from typing import ClassVar, Final

from typing_extensions import Buffer

__version__: Final[str]
BREAKER_SLOT_SIZE: Final[int]

def cpu_supported() -> bool:
    """True when this CPU runs every instruction the module was compiled to assume."""

def simd_level() -> str:
    """The delimiter scan's instruction set: "avx2", "sse2", "neon" or "scalar"."""

def find_any(
    data: Buffer, delims: bytes | bytearray, start: int = 0, end: int | None = None
) -> int:
    """The smallest index i in [start, end) with data[i] in delims, else -1."""

def top_level_span(body: Buffer, key: Buffer) -> tuple[int, int] | None:
    """(start, end) of the value of top-level key `key` in the JSON object `body`, or None."""

def parse_response_head(
    buf: Buffer, max_head: int = 65536
) -> tuple[int, int, list[tuple[str, str]], int, int] | None:
    """(head_len, status, headers, content_length, flags) of an HTTP/1.x response head,
    or None while it is incomplete."""

class SseFramer:
    def __init__(self, max_line_bytes: int = 1_048_576) -> None: ...
    def feed(
        self, chunk: bytes | bytearray | memoryview
    ) -> list[tuple[str, str, str, int | None]]: ...
    def close(self) -> list[tuple[str, str, str, int | None]]: ...
    @property
    def last_event_id(self) -> str: ...
    @property
    def retry(self) -> int | None: ...
    @property
    def buffered(self) -> int: ...

class BufferPool:
    def __init__(self, capacity: int = 1024, buffer_size: int = 65536) -> None: ...
    def acquire(self) -> bytearray: ...
    def release(self, buf: bytearray) -> bool: ...
    @property
    def capacity(self) -> int: ...
    @property
    def buffer_size(self) -> int: ...
    def available(self) -> int: ...
    def stats(self) -> dict[str, int]: ...

class CircuitBreaker:
    CLOSED: ClassVar[int]
    OPEN: ClassVar[int]
    HALF_OPEN: ClassVar[int]
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_ms: int = 30000,
        half_open_requests: int = 3,
        buffer: Buffer | None = None,
        offset: int = 0,
    ) -> None: ...
    def state(self, now_ms: int | None = None) -> int: ...
    def allow(self, now_ms: int | None = None) -> bool: ...
    def record_success(self, now_ms: int | None = None) -> None: ...
    def record_failure(self, now_ms: int | None = None) -> None: ...
    def reset(self) -> None: ...
    def snapshot(self) -> tuple[int, int, int, int, int]: ...

class PatternMatcher:
    def __init__(
        self,
        literals: Sequence[str] = (),
        regexes: Sequence[str] = (),
        case_insensitive: bool = False,
    ) -> None: ...
    def find_all(self, text: str) -> list[tuple[int, int, int]]: ...
    def find_all_bytes(self, data: bytes) -> list[tuple[int, int, int]]: ...
    @property
    def pattern_count(self) -> int: ...

class ChunkedDecoder:
    """Incremental decoder of an HTTP/1.1 `Transfer-Encoding: chunked` body."""
    def __init__(self, max_size_line: int = 1024) -> None: ...
    def feed(self, data: Buffer) -> bytes: ...
    @property
    def done(self) -> bool: ...
    @property
    def trailing(self) -> bytes: ...
    @property
    def buffered(self) -> int: ...
