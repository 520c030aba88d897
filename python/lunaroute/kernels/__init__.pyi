# Typed stub of the kernel facade. Whichever backend serves a kernel (rust, cython or
# python), its objects have exactly these signatures; the contract is docs/KERNELS.md.
from collections.abc import Sequence
from types import ModuleType
from typing import Final, Literal

# (event_type, data, id, retry); private alias: it does not exist at run time
_SseEvent = tuple[str, str, str, int | None]

KERNELS: dict[str, tuple[str, ...]]
ORDER: tuple[str, ...]

def backend_of(kernel: str) -> str: ...
def backends() -> dict[str, str]: ...
def module_for(kernel: str, backend: str) -> ModuleType | None: ...

# ---------------------------------------------------------------- sse
# Points docs/KERNELS.md leaves implicit, which every backend follows (and the
# cross-backend tests in tests/kernels/ pin down):
# - close() keeps `last_event_id` and `retry` (as EventSource does across reconnections);
#   it resets everything else, BOM handling and a pending CR included.
# - a `retry` value larger than 2**64 - 1 is ignored like any other unusable value.
# - `buffered` does not count the 1-2 leading bytes held while a BOM is still possible.
class SseFramer:
    def __init__(self, max_line_bytes: int = 1_048_576) -> None: ...
    def feed(self, chunk: bytes | bytearray | memoryview) -> list[_SseEvent]: ...
    def close(self) -> list[_SseEvent]: ...
    @property
    def last_event_id(self) -> str: ...
    @property
    def retry(self) -> int | None: ...
    @property
    def buffered(self) -> int: ...

# ---------------------------------------------------------------- scan
def find_any(data: bytes | bytearray | memoryview, delims: bytes, start: int = 0, end: int | None = None) -> int: ...
def simd_level() -> Literal["avx2", "sse2", "neon", "scalar"]: ...
def top_level_span(
    body: bytes | bytearray | memoryview, key: bytes | bytearray | memoryview
) -> tuple[int, int] | None: ...

# ---------------------------------------------------------------- bufpool
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

# ---------------------------------------------------------------- breaker
BREAKER_SLOT_SIZE: Final[int]

# Points docs/KERNELS.md leaves implicit, which every backend follows:
# - HALF_OPEN → CLOSED (enough successes) zeroes the counters but keeps opened_at_ms;
#   reset() zeroes opened_at_ms too (the slot as a new breaker finds it).
# - OPEN → HALF_OPEN and HALF_OPEN → OPEN keep the consecutive-failure count.
# - a clock reading before opened_at_ms (another process's skew) never promotes OPEN.
# - bits 56-63 of the packed word belong to no field and are kept as found.
class CircuitBreaker:
    CLOSED: Final[int]
    OPEN: Final[int]
    HALF_OPEN: Final[int]
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_ms: int = 30000,
        half_open_requests: int = 3,
        buffer: object | None = None,
        offset: int = 0,
    ) -> None: ...
    def state(self, now_ms: int | None = None) -> int: ...
    def allow(self, now_ms: int | None = None) -> bool: ...
    def record_success(self, now_ms: int | None = None) -> None: ...
    def record_failure(self, now_ms: int | None = None) -> None: ...
    def reset(self) -> None: ...
    def snapshot(self) -> tuple[int, int, int, int, int]: ...

# ---------------------------------------------------------------- matcher
class PatternMatcher:
    def __init__(
        self,
        literals: Sequence[str] = (),
        regexes: Sequence[str] = (),
        case_insensitive: bool = False,
    ) -> None: ...
    def find_all(self, text: str) -> list[tuple[int, int, int]]: ...
    def find_all_bytes(self, data: bytes | bytearray | memoryview) -> list[tuple[int, int, int]]: ...
    @property
    def pattern_count(self) -> int: ...

# ---------------------------------------------------------------- http1
# (head_len, status, headers, content_length, flags); flags: 1 chunked, 2 keep-alive
def parse_response_head(
    buf: bytes | bytearray | memoryview, max_head: int = 65536
) -> tuple[int, int, list[tuple[str, str]], int, int] | None: ...

# The body of a `Transfer-Encoding: chunked` response. feed() returns the chunk data decoded
# from everything fed so far and not returned before (b"" when none); any split of the
# input gives the same concatenated output. Errors: lunaroute.errors.ChunkedEncodingError,
# and after one every later feed() raises it again.
class ChunkedDecoder:
    def __init__(self, max_size_line: int = 1024) -> None: ...
    def feed(self, data: bytes | bytearray | memoryview) -> bytes: ...
    @property
    def done(self) -> bool: ...  # last chunk and trailer section consumed
    @property
    def trailing(self) -> bytes: ...  # bytes fed after the end of the message
    @property
    def buffered(self) -> int: ...  # bytes of an unfinished size line / CRLF / trailer line

__all__ = [
    "SseFramer",
    "find_any",
    "simd_level",
    "top_level_span",
    "BufferPool",
    "CircuitBreaker",
    "BREAKER_SLOT_SIZE",
    "PatternMatcher",
    "parse_response_head",
    "ChunkedDecoder",
    "backend_of",
    "backends",
    "module_for",
]
