# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, annotation_typing=False
"""Cython HTTP/1.x response-head parser and chunked-body decoder: kernel `http1`
(docs/KERNELS.md §6).

The head is walked in C: `memchr` finds each LF (a line ends only at CRLF, a bare CR or LF
is data, as in the Python twin's `split(b"\\r\\n")`), names are lowered while they are
copied into their str, and only the results become Python objects.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_Append
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.string cimport memchr, memcmp, memcpy

from lunaroute.errors import ChunkedEncodingError, HttpHeadError, InvalidArgumentError

include "_bytes.pxi"

cdef enum:
    _CHUNKED = 1
    _KEEP_ALIVE = 2
    _QUOTE = 80  # bytes of a bad line or value an error message shows

cdef unsigned long long _MAX_CONTENT_LENGTH = 9223372036854775807ULL


cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object o)


cdef inline bint _space(unsigned char c) noexcept nogil:
    # bytes.strip()'s set: SP and \t \n \v \f \r (9..13)
    return c == 32 or 9 <= c <= 13


cdef inline unsigned char _lower(unsigned char c) noexcept nogil:
    return c + 32 if 65 <= c <= 90 else c


cdef inline bint _is_ascii(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef unsigned char acc = 0
    for i in range(n):
        acc |= p[i]
    return acc < 0x80


cdef Py_ssize_t _head_end(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """Index just past the first CRLFCRLF, or -1. Every CRLFCRLF ends in a LF, so the
    first LF that closes one closes the first."""
    cdef Py_ssize_t pos = 0, j
    cdef const unsigned char* hit
    while pos < n:
        hit = <const unsigned char*>memchr(p + pos, 10, <size_t>(n - pos))
        if hit == NULL:
            return -1
        j = hit - p
        if j >= 3 and p[j - 1] == 13 and p[j - 2] == 10 and p[j - 3] == 13:
            return j + 1
        pos = j + 1
    return -1


cdef Py_ssize_t _line_end(const unsigned char* p, Py_ssize_t start, Py_ssize_t n) noexcept nogil:
    """Index of the CR of the first CRLF at or after start, or n (the last line)."""
    cdef Py_ssize_t pos = start, j
    cdef const unsigned char* hit
    while pos < n:
        hit = <const unsigned char*>memchr(p + pos, 10, <size_t>(n - pos))
        if hit == NULL:
            return n
        j = hit - p
        if j > start and p[j - 1] == 13:
            return j - 1
        pos = j + 1
    return n


cdef int _status(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """The status of `HTTP/1.<digit> <3 digits>[ reason]`, else -1."""
    cdef int i, status = 0
    if n < 12 or memcmp(p, b"HTTP/1.", 7) != 0 or p[8] != 32:
        return -1
    if n > 12 and p[12] != 32:
        return -1
    if not 48 <= p[7] <= 57:
        return -1
    for i in range(9, 12):
        if not 48 <= p[i] <= 57:
            return -1
        status = status * 10 + (p[i] - 48)
    return status


cdef long long _content_length(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """ASCII digits only, at most 2**63 - 1; else -1."""
    cdef unsigned long long v = 0, d
    cdef Py_ssize_t i
    if n == 0:
        return -1
    for i in range(n):
        d = <unsigned long long>p[i] - 48
        if d > 9 or v > (_MAX_CONTENT_LENGTH - d) // 10:
            return -1
        v = v * 10 + d
    return <long long>v


cdef bint _eq_ci(const unsigned char* p, Py_ssize_t n, const char* lower,
                 Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i
    if n != m:
        return False
    for i in range(n):
        if _lower(p[i]) != <unsigned char>lower[i]:
            return False
    return True


cdef bint _contains_ci(const unsigned char* p, Py_ssize_t n, const char* lower,
                       Py_ssize_t m) noexcept nogil:
    """ASCII case-insensitive `lower in p[:n]` (no latin-1 letter lowers to ASCII, so
    this is Python's `needle in value.lower()`)."""
    cdef Py_ssize_t i, k
    for i in range(n - m + 1):
        for k in range(m):
            if _lower(p[i + k]) != <unsigned char>lower[k]:
                break
        else:
            return True
    return False


cdef str _latin1(const unsigned char* p, Py_ssize_t n, bint lower):
    """`bytes(p[:n])` (lowered, ASCII only, when asked) decoded latin-1."""
    cdef object s
    cdef unsigned char* d
    cdef Py_ssize_t i
    if _is_ascii(p, n):
        # nearly every header: straight into a compact ASCII str
        s = PyUnicode_New(n, 127)
        d = <unsigned char*>PyUnicode_DATA(s)
        if lower:
            for i in range(n):
                d[i] = _lower(p[i])
        else:
            memcpy(d, p, <size_t>n)
        return <str>s
    if lower:
        return (<const char*>p)[:n].lower().decode("latin-1")
    return PyUnicode_DecodeLatin1(<const char*>p, n, NULL)


cdef object _parse(const unsigned char* p, Py_ssize_t size, object max_head):
    cdef Py_ssize_t end, hn, pos, le, c, ns, ne, vs, ve
    cdef const unsigned char* colon
    cdef int status
    cdef long long n, length = -1
    cdef bint keep_alive, chunked = False
    cdef list headers = []

    end = _head_end(p, size)
    if end < 0:
        # max_head bounds the wait for a terminator, not a head that has arrived
        if size > max_head:
            raise HttpHeadError("upstream response head too large")
        return None
    hn = end - 4
    le = _line_end(p, 0, hn)
    status = _status(p, le)
    if status < 0:
        raise HttpHeadError(
            f"bad upstream status line {(<const char*>p)[:min(le, <Py_ssize_t>_QUOTE)]!r}")
    keep_alive = p[7] == 49  # HTTP/1.1
    pos = le + 2
    while pos <= hn:
        le = _line_end(p, pos, hn)
        colon = <const unsigned char*>memchr(p + pos, 58, <size_t>(le - pos))
        if colon == NULL or colon == p + pos:
            pos = le + 2  # no colon, or an empty name: skipped
            continue
        c = colon - p
        ns, ne, vs, ve = pos, c, c + 1, le
        while ns < ne and _space(p[ns]):
            ns += 1
        while ne > ns and _space(p[ne - 1]):
            ne -= 1
        while vs < ve and _space(p[vs]):
            vs += 1
        while ve > vs and _space(p[ve - 1]):
            ve -= 1
        PyList_Append(headers, (_latin1(p + ns, ne - ns, True), _latin1(p + vs, ve - vs, False)))
        if _eq_ci(p + ns, ne - ns, b"content-length", 14):
            n = _content_length(p + vs, ve - vs)
            if n < 0:
                raise HttpHeadError(
                    f"bad upstream content-length "
                    f"{(<const char*>p)[vs:vs + min(ve - vs, <Py_ssize_t>_QUOTE)]!r}")
            if length >= 0 and n != length:
                raise HttpHeadError(
                    f"conflicting upstream content-length values {length} and {n}")
            length = n
        elif _eq_ci(p + ns, ne - ns, b"transfer-encoding", 17):
            chunked = _contains_ci(p + vs, ve - vs, b"chunked", 7)  # the last one decides
        elif _eq_ci(p + ns, ne - ns, b"connection", 10):
            if _contains_ci(p + vs, ve - vs, b"close", 5):
                keep_alive = False
            elif _contains_ci(p + vs, ve - vs, b"keep-alive", 10):
                keep_alive = True
        pos = le + 2
    return (end, status, headers, length,
            (_CHUNKED if chunked else 0) | (_KEEP_ALIVE if keep_alive else 0))


def parse_response_head(buf, max_head=65536):
    """(head_len, status, headers, content_length, flags) of the head at the start of buf,
    or None while it is incomplete."""
    cdef Py_buffer view
    cdef bint held = False
    cdef const unsigned char* p
    cdef Py_ssize_t size
    # the buffer first, then max_head: the order of the other backends' checks
    # a held buffer for a bytearray: it cannot be resized while it is parsed
    held = _borrow_bytes(buf, &view, &p, &size, "parse_response_head")
    try:
        if not isinstance(max_head, int):
            raise TypeError(f"max_head must be an int, not {type(max_head).__name__}")
        if max_head < 0:
            raise InvalidArgumentError(f"max_head must be >= 0, got {max_head}")
        return _parse(p, size, max_head)
    finally:
        if held:
            PyBuffer_Release(&view)


# ---------------------------------------------------------------------------- chunked body
# ChunkedDecoder: the HTTP/1.1 chunked transfer-coding decoder (docs/KERNELS.md §6). A C
# state machine over the fed bytes; chunk data is never copied until the one bytes object
# a feed returns (its places in the input are collected as spans first). Only a size line
# cut by a feed boundary is kept, in a C buffer; trailer lines are counted and skipped.

cdef enum:
    _ST_SIZE = 0      # reading a size line
    _ST_DATA = 1      # inside chunk data
    _ST_DATA_END = 2  # the CRLF after chunk data
    _ST_TRAILER = 3   # skipping trailer lines
    _ST_DONE = 4      # complete: further bytes are `trailing`
    _ST_FAILED = 5    # refused: every later feed raises again
    # _run's verdicts
    _OK = 0
    _E_SIZE = 1
    _E_SIZE_LINE = 2
    _E_ENCODING = 3
    _SPANS_INITIAL = 16  # (start, end) pairs: one per chunk a feed touches

cdef unsigned long long _MAX_CHUNK_SIZE = 9223372036854775807ULL  # 2**63 - 1

cdef tuple _MESSAGES = (
    "", "bad chunk size from upstream", "bad chunk size line from upstream",
    "bad chunked encoding from upstream",
)


cdef inline int _hex(unsigned char c) noexcept nogil:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


cdef long long _chunk_size(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """The size of a size line (the bytes before its LF), else -1: trailing CRs dropped,
    everything from the first ';' cut, then hex digits with optional SP/HT around them,
    at most 2**63 - 1."""
    cdef const unsigned char* semi
    cdef Py_ssize_t s = 0, i
    cdef unsigned long long v = 0
    cdef int d
    while n > 0 and p[n - 1] == 13:
        n -= 1
    semi = <const unsigned char*>memchr(p, 59, <size_t>n)
    if semi != NULL:
        n = semi - p
    while s < n and (p[s] == 32 or p[s] == 9):
        s += 1
    while n > s and (p[n - 1] == 32 or p[n - 1] == 9):
        n -= 1
    if s == n:
        return -1
    for i in range(s, n):
        d = _hex(p[i])
        if d < 0 or v > (_MAX_CHUNK_SIZE >> 4):  # leading zeros keep v at 0
            return -1
        v = (v << 4) | <unsigned long long>d
    return <long long>v


cdef class ChunkedDecoder:
    """Incremental decoder of an HTTP/1.1 `Transfer-Encoding: chunked` body."""
    cdef int _state
    cdef Py_ssize_t _max
    cdef unsigned long long _remaining
    cdef unsigned char* _line      # the start of a size line whose LF has not come
    cdef Py_ssize_t _line_len, _line_cap
    cdef int _held                 # first byte of the CRLF after data, when it came alone
    cdef Py_ssize_t _tlen          # bytes of the current trailer line so far
    cdef bint _tcr                 # ... the last of them a CR
    cdef Py_ssize_t _rest          # where this feed's bytes past the message begin, or -1
    cdef Py_ssize_t* _spans        # (start, end) of this feed's chunk data in its input
    cdef Py_ssize_t _nspans, _spans_cap
    cdef bytearray _trailing
    cdef str _error

    def __cinit__(self):
        self._line = NULL
        self._spans = NULL

    def __init__(self, max_size_line=1024):
        if not isinstance(max_size_line, int):
            raise TypeError(f"max_size_line must be an int, not {type(max_size_line).__name__}")
        if max_size_line < 1:
            raise InvalidArgumentError(f"max_size_line must be >= 1, got {max_size_line}")
        self._max = <Py_ssize_t>min(max_size_line, PY_SSIZE_T_MAX)
        self._state = _ST_SIZE
        self._remaining = 0
        self._line_len = 0
        self._held = -1
        self._tlen = 0
        self._tcr = False
        self._trailing = bytearray()
        self._error = ""

    def __dealloc__(self):
        PyMem_Free(self._line)
        PyMem_Free(self._spans)

    @property
    def done(self):
        return self._state == _ST_DONE

    @property
    def trailing(self):
        return bytes(self._trailing)

    @property
    def buffered(self):
        if self._state == _ST_SIZE:
            return self._line_len
        if self._state == _ST_DATA_END:
            return 1 if self._held >= 0 else 0
        if self._state == _ST_TRAILER:
            return self._tlen
        return 0

    def feed(self, data):
        """Decodes `data`; returns the chunk data it completed (b"" when none)."""
        cdef Py_buffer view
        cdef bint held = False
        cdef const unsigned char* p
        cdef Py_ssize_t n
        # a held buffer for a bytearray: it cannot be resized while it is decoded
        held = _borrow_bytes(data, &view, &p, &n, "feed")
        try:
            return self._feed(data, p, n)
        finally:
            if held:
                PyBuffer_Release(&view)

    cdef object _feed(self, object data, const unsigned char* p, Py_ssize_t n):
        cdef int verdict
        cdef Py_ssize_t i, total = 0
        cdef bytes out
        cdef char* dst
        if self._state == _ST_DONE:
            self._trailing += p[:n]
            return b""
        if self._state == _ST_FAILED:
            raise ChunkedEncodingError(self._error)
        self._nspans = 0
        self._rest = -1
        verdict = self._run(p, n)
        if verdict != _OK:
            self._state = _ST_FAILED
            self._error = _MESSAGES[verdict]
            self._line_len = 0
            raise ChunkedEncodingError(self._error)
        if self._rest >= 0:
            self._trailing += p[self._rest:n]
        if self._nspans == 0:
            return b""
        if (self._nspans == 1 and self._spans[0] == 0 and self._spans[1] == n
                and type(data) is bytes):
            return data  # all of it is data (a read inside a large chunk)
        for i in range(self._nspans):
            total += self._spans[2 * i + 1] - self._spans[2 * i]
        out = PyBytes_FromStringAndSize(NULL, total)
        dst = PyBytes_AS_STRING(out)
        for i in range(self._nspans):
            memcpy(dst, p + self._spans[2 * i],
                   <size_t>(self._spans[2 * i + 1] - self._spans[2 * i]))
            dst += self._spans[2 * i + 1] - self._spans[2 * i]
        return out

    cdef int _push_span(self, Py_ssize_t start, Py_ssize_t end) except -1:
        cdef Py_ssize_t cap
        cdef Py_ssize_t* grown
        if self._nspans == self._spans_cap:
            cap = self._spans_cap * 2 if self._spans_cap else _SPANS_INITIAL
            grown = <Py_ssize_t*>PyMem_Realloc(self._spans, <size_t>cap * 2 * sizeof(Py_ssize_t))
            if grown == NULL:
                raise MemoryError("chunked decoder spans")
            self._spans = grown
            self._spans_cap = cap
        self._spans[2 * self._nspans] = start
        self._spans[2 * self._nspans + 1] = end
        self._nspans += 1
        return 0

    cdef int _keep_line(self, const unsigned char* src, Py_ssize_t k) except -1:
        """Append k bytes to the carried size line (never past _max in all)."""
        cdef Py_ssize_t cap
        cdef unsigned char* grown
        if self._line_len + k > self._line_cap:
            cap = self._line_cap * 2 if self._line_cap else 64
            if cap < self._line_len + k:
                cap = self._line_len + k
            grown = <unsigned char*>PyMem_Realloc(self._line, <size_t>cap)
            if grown == NULL:
                raise MemoryError("chunked decoder size line")
            self._line = grown
            self._line_cap = cap
        memcpy(self._line + self._line_len, src, <size_t>k)
        self._line_len += k
        return 0

    cdef int _run(self, const unsigned char* p, Py_ssize_t n) except -1:
        """The state machine over p[:n]: _OK or an _E_* verdict."""
        cdef Py_ssize_t pos = 0, room, window, lf, avail
        cdef const unsigned char* hit
        cdef long long size
        cdef int first
        while pos < n:
            if self._state == _ST_DATA:
                avail = n - pos
                if self._remaining > <unsigned long long>avail:
                    self._push_span(pos, n)
                    self._remaining -= <unsigned long long>avail
                    return _OK
                self._push_span(pos, pos + <Py_ssize_t>self._remaining)
                pos += <Py_ssize_t>self._remaining
                self._remaining = 0
                self._held = -1
                self._state = _ST_DATA_END
            elif self._state == _ST_DATA_END:
                # judged only once both bytes are here, as the original did
                if self._held < 0:
                    first = p[pos]
                    pos += 1
                    if pos == n:
                        self._held = first
                        return _OK
                else:
                    first = self._held
                    self._held = -1
                if first != 13 or p[pos] != 10:
                    return _E_ENCODING
                pos += 1
                self._state = _ST_SIZE
            elif self._state == _ST_SIZE:
                avail = n - pos
                room = self._max - self._line_len
                # a LF further than `room` bytes away would make the line too long anyway
                window = avail if avail <= room else room + 1
                hit = <const unsigned char*>memchr(p + pos, 10, <size_t>window)
                if hit == NULL:
                    if avail > room:
                        return _E_SIZE_LINE
                    self._keep_line(p + pos, avail)
                    return _OK
                lf = hit - p
                if self._line_len:
                    self._keep_line(p + pos, lf - pos)
                    size = _chunk_size(self._line, self._line_len)
                    self._line_len = 0
                else:
                    size = _chunk_size(p + pos, lf - pos)
                if size < 0:
                    return _E_SIZE
                pos = lf + 1
                if size:
                    self._remaining = <unsigned long long>size
                    self._state = _ST_DATA
                else:
                    self._tlen = 0
                    self._tcr = False
                    self._state = _ST_TRAILER
            elif self._state == _ST_TRAILER:
                pos = self._skip_trailers(p, pos, n)
            else:  # _ST_DONE: the rest is past the message
                self._rest = pos
                return _OK
        return _OK

    cdef Py_ssize_t _skip_trailers(self, const unsigned char* p, Py_ssize_t pos,
                                   Py_ssize_t n) noexcept:
        """Skip trailer lines (each ended by CRLF; a bare LF is part of the line) from pos
        up to n; after the empty line the state is DONE. Returns where it stopped."""
        cdef const unsigned char* hit
        cdef Py_ssize_t lf
        cdef bint after_cr
        while True:
            hit = <const unsigned char*>memchr(p + pos, 10, <size_t>(n - pos))
            if hit == NULL:
                if pos < n:
                    self._tlen += n - pos
                    self._tcr = p[n - 1] == 13
                return n
            lf = hit - p
            after_cr = p[lf - 1] == 13 if lf > pos else self._tcr
            if after_cr:
                # the line's bytes before its CRLF: the earlier ones, these, minus the CR
                if self._tlen + lf - pos == 1:
                    self._tlen = 0
                    self._tcr = False
                    self._state = _ST_DONE
                    self._rest = lf + 1
                    return lf + 1
                self._tlen = 0
            else:
                self._tlen += lf - pos + 1
            self._tcr = False
            pos = lf + 1
