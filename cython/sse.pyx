# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, annotation_typing=False
"""Cython SSE framer: kernel `sse` (docs/KERNELS.md §1).

Where the time goes, and why it is small here:
- line ends are found with `memchr` for LF and for CR, each cached until passed, so a
  chunk is scanned once whatever its line count (a CR-free stream costs one CR scan);
- lines are interpreted on bytes (field names compared with memcmp) and only finished
  values become Python objects: the data of a dispatched event, a new `id`, a new event
  type (the last few event-type strings are cached: streams repeat a handful of names);
- an unfinished line is kept in a C carry buffer; the data of the pending event in
  another. Both grow by doubling and shrink back after an outsized event.

Parsing bytes before decoding is exact: CR, LF, ':' and ' ' are ASCII, and
`decode("utf-8", "replace")` never folds an ASCII byte into a replacement character, so
splitting then decoding each piece equals decoding then splitting.
"""
cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.list cimport PyList_Append
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcmp, memcpy

from lunaroute.errors import InvalidArgumentError, SseLineTooLongError

include "_bytes.pxi"

cdef enum:
    _CR = 0x0D
    _LF = 0x0A
    # A buffer grown past this is shrunk back to _BUF_INITIAL once its content is consumed,
    # so one huge event does not pin its memory for the rest of the stream.
    _BUF_INITIAL = 1024
    _BUF_KEEP_MAX = 262144
    # Event-type strings remembered (streams use a handful: message_start, ping, ...).
    _ETYPE_CACHE = 8
    _ETYPE_CACHE_MAX_LEN = 64
    # The reconnection time is a u64 in every tier; more significant digits never fit.
    _RETRY_MAX_DIGITS = 20

cdef const unsigned char* _BOM = b"\xef\xbb\xbf"
cdef str _MESSAGE = "message"
cdef str _EMPTY = ""


cdef struct _Buf:
    unsigned char* ptr
    Py_ssize_t len
    Py_ssize_t cap


cdef int _buf_reserve(_Buf* b, Py_ssize_t extra) except -1:
    """Make room for `extra` more bytes (growth by doubling)."""
    cdef Py_ssize_t need = b.len + extra
    cdef Py_ssize_t cap = b.cap if b.cap else _BUF_INITIAL
    cdef unsigned char* p
    if need <= b.cap:
        return 0
    while cap < need:
        cap *= 2
    p = <unsigned char*>PyMem_Realloc(b.ptr, <size_t>cap)
    if p == NULL:
        raise MemoryError("SSE framer buffer")
    b.ptr = p
    b.cap = cap
    return 0


cdef inline int _buf_append(_Buf* b, const unsigned char* src, Py_ssize_t n) except -1:
    if b.len + n > b.cap:
        _buf_reserve(b, n)
    memcpy(b.ptr + b.len, src, <size_t>n)
    b.len += n
    return 0


cdef inline void _buf_clear(_Buf* b) noexcept:
    """Empty the buffer; give back memory an outsized line or event made it take."""
    b.len = 0
    if b.cap > _BUF_KEEP_MAX:
        PyMem_Free(b.ptr)
        b.ptr = NULL
        b.cap = 0


cdef inline void _buf_free(_Buf* b) noexcept:
    PyMem_Free(b.ptr)
    b.ptr = NULL
    b.len = 0
    b.cap = 0


cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object o)


cdef inline bint _is_ascii(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    # A branch-free OR-reduction: gcc -O3 turns it into 16-byte vector ORs.
    cdef Py_ssize_t i
    cdef unsigned char acc = 0
    for i in range(n):
        acc |= p[i]
    return acc < 0x80


cdef str _decode(const unsigned char* p, Py_ssize_t n):
    """`bytes(p[:n]).decode("utf-8", "replace")` without the intermediate bytes.

    ASCII (nearly all SSE payload: JSON) is copied straight into a new compact str, which
    skips the decoder's per-call setup; anything else goes through CPython's decoder.
    """
    cdef object s
    if _is_ascii(p, n):
        s = PyUnicode_New(n, 127)
        memcpy(PyUnicode_DATA(s), p, <size_t>n)
        return <str>s
    return PyUnicode_DecodeUTF8(<const char*>p, n, "replace")


cdef inline Py_ssize_t _next(const unsigned char* p, Py_ssize_t pos, Py_ssize_t n,
                             unsigned char byte) noexcept nogil:
    """Index of the next `byte` at or after pos, or n when there is none."""
    cdef const unsigned char* hit = <const unsigned char*>memchr(p + pos, byte, <size_t>(n - pos))
    return n if hit == NULL else hit - p


@cython.final  # direct (inlinable) calls to its cdef methods, no vtable
cdef class SseFramer:
    """Incremental `text/event-stream` parser (WHATWG "Interpreting an event stream")."""

    cdef Py_ssize_t _max
    cdef _Buf _line            # bytes of the unfinished line
    cdef _Buf _data            # data values of the pending event, each followed by LF
    # The pending event's only data value while it still lies in the chunk being fed:
    # the usual one-data-line event is then decoded straight from the chunk, never copied.
    cdef const unsigned char* _direct
    cdef Py_ssize_t _direct_len
    cdef int _bom_held         # BOM bytes seen so far while the BOM question is open
    cdef bint _bom_settled
    cdef bint _cr              # the last chunk ended with CR: a leading LF is its pair
    cdef bint _poisoned
    cdef str _event            # event-type buffer
    cdef object _retry_block   # int | None: retry set in the pending event's block
    cdef str _last_id
    cdef object _retry         # int | None: the reconnection time last set
    # Event-type cache: raw bytes in C (compared with memcmp), the str values in a list.
    cdef unsigned char _etype_raw[_ETYPE_CACHE][_ETYPE_CACHE_MAX_LEN]
    cdef Py_ssize_t _etype_len[_ETYPE_CACHE]
    cdef list _etype_values
    cdef int _etype_count
    cdef int _etype_next       # round-robin slot to replace when the cache is full
    cdef int _etype_last       # the slot hit last: streams repeat one type in runs
    cdef list _events          # the list the current feed() returns

    def __cinit__(self, *args, **kwargs):
        self._line.ptr = NULL
        self._data.ptr = NULL

    def __dealloc__(self):
        _buf_free(&self._line)
        _buf_free(&self._data)

    def __init__(self, max_line_bytes: int = 1_048_576) -> None:
        if not isinstance(max_line_bytes, int):
            raise TypeError(
                f"max_line_bytes must be an int, not {type(max_line_bytes).__name__}")
        if max_line_bytes < 1:
            raise InvalidArgumentError(f"max_line_bytes must be >= 1, got {max_line_bytes}")
        # Beyond PY_SSIZE_T_MAX no buffer can exist: the limit is unreachable either way.
        self._max = max_line_bytes if max_line_bytes < (1 << 62) else (1 << 62)
        self._last_id = _EMPTY
        self._retry = None
        self._poisoned = False
        self._etype_values = [None] * _ETYPE_CACHE
        self._etype_count = 0
        self._etype_next = 0
        self._etype_last = 0
        self._reset_parse_state()

    cdef void _reset_parse_state(self):
        # Everything a new stream starts without; last_event_id and retry outlive close()
        # the way EventSource keeps them across reconnections.
        _buf_clear(&self._line)
        _buf_clear(&self._data)
        self._direct = NULL
        self._bom_held = 0
        self._bom_settled = False
        self._cr = False
        self._event = _EMPTY
        self._retry_block = None

    # ------------------------------------------------------------------ properties
    @property
    def last_event_id(self) -> str:
        return self._last_id

    @property
    def retry(self):
        """The reconnection time (ms) last set by a `retry` field, if any."""
        return self._retry

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished line."""
        return self._line.len

    # ------------------------------------------------------------------ line interpretation
    cdef str _event_type(self, const unsigned char* v, Py_ssize_t n):
        """The str for an event-type value, from the cache when it was seen recently."""
        cdef int i, slot
        cdef str value
        if n <= _ETYPE_CACHE_MAX_LEN:
            for i in range(self._etype_count):
                slot = (self._etype_last + i) % self._etype_count
                if (self._etype_len[slot] == n
                        and memcmp(self._etype_raw[slot], v, <size_t>n) == 0):
                    self._etype_last = slot
                    return <str>self._etype_values[slot]
        value = _decode(v, n)
        if n <= _ETYPE_CACHE_MAX_LEN:
            if self._etype_count < _ETYPE_CACHE:
                slot = self._etype_count
                self._etype_count += 1
            else:
                slot = self._etype_next
                self._etype_next = (self._etype_next + 1) % _ETYPE_CACHE
            memcpy(self._etype_raw[slot], v, <size_t>n)
            self._etype_len[slot] = n
            self._etype_values[slot] = value
            self._etype_last = slot
        return value

    cdef int _set_retry(self, const unsigned char* v, Py_ssize_t n) except -1:
        """A `retry` value: only ASCII digits, non-empty, fitting a u64; else ignored."""
        cdef Py_ssize_t i
        cdef uint64_t ms = 0, digit
        cdef object value
        if n == 0:
            return 0
        for i in range(n):
            if v[i] < 0x30 or v[i] > 0x39:
                return 0
        i = 0
        while i < n and v[i] == 0x30:
            i += 1
        if n - i > _RETRY_MAX_DIGITS:
            return 0
        while i < n:
            digit = v[i] - 0x30
            if ms > (<uint64_t>0xFFFFFFFFFFFFFFFF - digit) // 10:
                return 0  # does not fit a u64: ignored like any unusable value
            ms = ms * 10 + digit
            i += 1
        value = ms
        self._retry = value
        self._retry_block = value
        return 0

    cdef int _data_append(self, const unsigned char* value, Py_ssize_t n) except -1:
        """data buffer += value + LF."""
        if self._data.len + n + 1 > self._data.cap:
            _buf_reserve(&self._data, n + 1)
        memcpy(self._data.ptr + self._data.len, value, <size_t>n)
        self._data.ptr[self._data.len + n] = _LF
        self._data.len += n + 1
        return 0

    cdef int _spill_direct(self) except -1:
        """Copy a value held by reference into the data buffer (its chunk is going away)."""
        cdef const unsigned char* value = self._direct
        if value != NULL:
            self._direct = NULL
            self._data_append(value, self._direct_len)
        return 0

    cdef int _dispatch(self) except -1:
        cdef str data
        if self._direct != NULL:
            data = _decode(self._direct, self._direct_len)
            self._direct = NULL
        elif self._data.len:
            # The data buffer ends with the LF after its last value: dropped.
            data = _decode(self._data.ptr, self._data.len - 1)
            _buf_clear(&self._data)
        else:
            self._event = _EMPTY  # nothing to dispatch: only the event type resets
            return 0
        PyList_Append(self._events, (self._event if len(self._event) else _MESSAGE, data,
                                     self._last_id, self._retry_block))
        self._retry_block = None
        self._event = _EMPTY
        return 0

    cdef int _line_done(self, const unsigned char* line, Py_ssize_t n, bint in_chunk) except -1:
        """Interpret one complete line (terminator excluded).

        `in_chunk`: the line lies in the chunk being fed (valid until feed() returns),
        not in the carry buffer (reused for the next line).
        """
        cdef const unsigned char* colon
        cdef const unsigned char* value
        cdef Py_ssize_t name_len, value_len
        if n == 0:
            return self._dispatch()
        if line[0] == 0x3A:  # ':' comment
            return 0
        colon = <const unsigned char*>memchr(line, 0x3A, <size_t>n)
        if colon == NULL:
            name_len = n
            value = line + n
            value_len = 0
        else:
            name_len = colon - line
            value = colon + 1
            value_len = n - name_len - 1
            if value_len and value[0] == 0x20:
                value += 1
                value_len -= 1
        if name_len == 4:
            if memcmp(line, b"data", 4) == 0:
                if in_chunk and self._data.len == 0 and self._direct == NULL:
                    self._direct = value
                    self._direct_len = value_len
                else:
                    self._spill_direct()
                    self._data_append(value, value_len)
        elif name_len == 5:
            if memcmp(line, b"event", 5) == 0:
                self._event = self._event_type(value, value_len)
            elif memcmp(line, b"retry", 5) == 0:
                self._set_retry(value, value_len)
        elif name_len == 2:
            if memcmp(line, b"id", 2) == 0 and (
                    value_len == 0 or memchr(value, 0, <size_t>value_len) == NULL):
                self._last_id = _decode(value, value_len)
        return 0

    # ------------------------------------------------------------------ feeding
    cdef _too_long(self):
        self._poisoned = True
        _buf_free(&self._line)
        return SseLineTooLongError(
            f"SSE line longer than max_line_bytes={self._max} bytes without a line ending")

    cdef list _feed(self, const unsigned char* p, Py_ssize_t n):
        cdef Py_ssize_t pos = 0, end, next_lf = -1, next_cr = -1
        cdef str saved_id = self._last_id
        cdef object saved_retry = self._retry

        if not self._bom_settled:
            while pos < n and self._bom_held < 3 and p[pos] == _BOM[self._bom_held]:
                self._bom_held += 1
                pos += 1
            if self._bom_held == 3:
                self._bom_settled = True        # a BOM: dropped
            elif pos == n:
                return []                       # could still become a BOM: wait for more
            else:
                self._bom_settled = True        # not a BOM: its bytes start the first line
                _buf_append(&self._line, _BOM, self._bom_held)
            self._bom_held = 0
            if pos == n:
                return []
        if self._cr:
            self._cr = False
            if p[pos] == _LF:
                pos += 1
                if pos == n:
                    return []

        self._events = []
        try:
            while True:
                if p[pos] == _LF or p[pos] == _CR:
                    end = pos  # the blank line that ends an event: no search needed
                else:
                    if next_lf < pos:
                        next_lf = _next(p, pos, n, _LF)
                    if next_cr < pos:
                        next_cr = _next(p, pos, n, _CR)
                    end = next_lf if next_lf < next_cr else next_cr
                    if end == n:
                        break
                if self._line.len:
                    if self._line.len + (end - pos) > self._max:
                        raise self._too_long()
                    _buf_append(&self._line, p + pos, end - pos)
                    self._line_done(self._line.ptr, self._line.len, False)
                    _buf_clear(&self._line)
                else:
                    if end - pos > self._max:
                        raise self._too_long()
                    self._line_done(p + pos, end - pos, True)
                pos = end + 1
                if p[end] == _CR:
                    if pos == n:
                        self._cr = True         # its LF, if any, starts the next chunk
                    elif p[pos] == _LF:
                        pos += 1
                if pos == n:
                    break
            if pos < n:
                if self._line.len + (n - pos) > self._max:
                    raise self._too_long()
                _buf_append(&self._line, p + pos, n - pos)
            return self._events
        except SseLineTooLongError:
            # The whole feed is refused: nothing it carried is applied.
            self._last_id = saved_id
            self._retry = saved_retry
            raise
        finally:
            self._events = None
            self._spill_direct()

    def feed(self, chunk) -> list:
        """Parse the next piece of the stream; the events it completes, in order."""
        cdef Py_buffer view
        if type(chunk) is bytes:
            if self._poisoned:
                raise SseLineTooLongError("SSE framer is unusable after a line-too-long error")
            if PyBytes_GET_SIZE(chunk) == 0:
                return []
            return self._feed(<const unsigned char*>PyBytes_AS_STRING(chunk),
                              PyBytes_GET_SIZE(chunk))
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"feed() takes bytes, bytearray or memoryview, not {type(chunk).__name__}")
        if self._poisoned:
            raise SseLineTooLongError("SSE framer is unusable after a line-too-long error")
        _acquire_bytes(chunk, &view)
        try:
            if view.len == 0:
                return []
            return self._feed(<const unsigned char*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    def close(self) -> list:
        """End of stream: the undispatched event is discarded; the framer is ready again."""
        if self._poisoned:
            raise SseLineTooLongError("SSE framer is unusable after a line-too-long error")
        if self._line.len:
            # A last line without a terminator is still interpreted (it may set id/retry),
            # but it can never be the blank line that dispatches.
            self._events = []
            try:
                self._line_done(self._line.ptr, self._line.len, False)
            finally:
                self._events = None
        self._reset_parse_state()
        return []

    def __repr__(self) -> str:
        return (f"SseFramer(max_line_bytes={self._max}, buffered={self._line.len}, "
                f"last_event_id={self._last_id!r}, retry={self._retry!r})")
