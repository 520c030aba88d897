# Typed stub of the kernel facade, and the one definition of the kernels' types: whichever
# backend serves a kernel (rust, cython or python), its objects have exactly these
# signatures (the contract is docs/KERNELS.md), and lunaroute/_native.pyi re-exports them.
#
# Checked against the built modules by `python -m mypy.stubtest lunaroute.kernels` (and
# lunaroute._native) in scripts/test, which sees the Rust backend. So the classes are
# written as the Rust ones are: constructed by `__new__`, and `@final` (no backend promises
# that they can be subclassed).
#
# "Buffer" is any object with the buffer protocol (bytes, bytearray, memoryview, mmap,
# array); every backend reads those through a buffer view. Where only some types are taken,
# the signature lists them.
from collections.abc import Sequence
from types import ModuleType
from typing import Final, Literal, Self, final

from typing_extensions import Buffer

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
@final
class SseFramer:
    def __new__(cls, max_line_bytes: int = 1_048_576) -> Self: ...
    def feed(self, chunk: bytes | bytearray | memoryview) -> list[_SseEvent]: ...
    def close(self) -> list[_SseEvent]: ...
    @property
    def last_event_id(self) -> str: ...
    @property
    def retry(self) -> int | None: ...
    @property
    def buffered(self) -> int: ...

# ---------------------------------------------------------------- scan
# The smallest index i in [start, end) with data[i] in delims, else -1.
def find_any(data: Buffer, delims: bytes | bytearray, start: int = 0, end: int | None = None) -> int: ...

# The delimiter scan's instruction set (the Cython and Python backends: "scalar").
def simd_level() -> Literal["avx2", "sse2", "neon", "scalar"]: ...

# (start, end) of the value of top-level key `key` in the JSON object `body`, or None.
def top_level_span(body: Buffer, key: Buffer) -> tuple[int, int] | None: ...

# ---------------------------------------------------------------- bufpool
@final
class BufferPool:
    def __new__(cls, capacity: int = 1024, buffer_size: int = 65536) -> Self: ...
    def acquire(self) -> bytearray: ...
    def release(self, buf: bytearray) -> bool: ...
    @property
    def capacity(self) -> int: ...
    @property
    def buffer_size(self) -> int: ...
    def available(self) -> int: ...
    def stats(self) -> dict[str, int]: ...

# ---------------------------------------------------------------- breaker
BREAKER_SLOT_SIZE: Final = 64  # bytes a breaker occupies in a shared buffer

# Points docs/KERNELS.md leaves implicit, which every backend follows:
# - HALF_OPEN → CLOSED (enough successes) zeroes the counters but keeps opened_at_ms;
#   reset() zeroes opened_at_ms too (the slot as a new breaker finds it).
# - OPEN → HALF_OPEN and HALF_OPEN → OPEN keep the consecutive-failure count.
# - a clock reading before opened_at_ms (another process's skew) never promotes OPEN.
# - bits 56-63 of the packed word belong to no field and are kept as found.
@final
class CircuitBreaker:
    CLOSED: Final = 0
    OPEN: Final = 1
    HALF_OPEN: Final = 2
    # `buffer` must be writable (a read-only one raises InvalidArgumentError): the slot at
    # `offset` is shared with every breaker that maps the same bytes.
    def __new__(
        cls,
        failure_threshold: int = 5,
        reset_timeout_ms: int = 30000,
        half_open_requests: int = 3,
        buffer: Buffer | None = None,
        offset: int = 0,
    ) -> Self: ...
    def state(self, now_ms: int | None = None) -> int: ...
    def allow(self, now_ms: int | None = None) -> bool: ...
    def record_success(self, now_ms: int | None = None) -> None: ...
    def record_failure(self, now_ms: int | None = None) -> None: ...
    def reset(self) -> None: ...
    def snapshot(self) -> tuple[int, int, int, int, int]: ...

# ---------------------------------------------------------------- matcher
@final
class PatternMatcher:
    def __new__(
        cls,
        literals: Sequence[str] = (),
        regexes: Sequence[str] = (),
        case_insensitive: bool = False,
    ) -> Self: ...
    def find_all(self, text: str) -> list[tuple[int, int, int]]: ...
    def find_all_bytes(self, data: Buffer) -> list[tuple[int, int, int]]: ...
    @property
    def pattern_count(self) -> int: ...

# ---------------------------------------------------------------- http1
# (head_len, status, headers, content_length, flags) of the HTTP/1.x response head at the
# start of buf, or None while it is incomplete; flags: 1 chunked, 2 keep-alive.
def parse_response_head(
    buf: Buffer, max_head: int = 65536
) -> tuple[int, int, list[tuple[str, str]], int, int] | None: ...

# The body of a `Transfer-Encoding: chunked` response. feed() returns the chunk data decoded
# from everything fed so far and not returned before (b"" when none); any split of the
# input gives the same concatenated output. Errors: lunaroute.errors.ChunkedEncodingError,
# and after one every later feed() raises it again.
@final
class ChunkedDecoder:
    def __new__(cls, max_size_line: int = 1024) -> Self: ...
    def feed(self, data: Buffer) -> bytes: ...
    @property
    def done(self) -> bool: ...  # last chunk and trailer section consumed
    @property
    def trailing(self) -> bytes: ...  # bytes fed after the end of the message
    @property
    def buffered(self) -> int: ...  # bytes of an unfinished size line / CRLF / trailer line

# ---------------------------------------------------------------- xlate
SOURCE_OPENAI: Final = 0
SOURCE_ANTHROPIC: Final = 1

# A translated stream's fast path (docs/KERNELS.md §7): feed() frames upstream SSE bytes;
# next() translates queued events through the routes until one must go to the reference
# decoder/encoder, returning (bytes translated, that event as (type, data) or None when the
# queue is empty). route()/set_ping()/clear() say what the reference's state allows now.
@final
class StreamTranslator:
    def __new__(cls, source: int, max_line_bytes: int = 1_048_576) -> Self: ...
    def feed(self, chunk: Buffer) -> None: ...
    def next(self) -> tuple[bytes, tuple[str, str] | None]: ...
    def route(self, key: int, field: int, prefix: bytes | None, suffix: bytes, emit_empty: bool) -> None: ...
    def set_ping(self, ping: bytes | None) -> None: ...
    def clear(self) -> None: ...

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
    "StreamTranslator",
    "SOURCE_OPENAI",
    "SOURCE_ANTHROPIC",
    "backend_of",
    "backends",
    "module_for",
]
