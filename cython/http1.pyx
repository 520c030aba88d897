# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, annotation_typing=False
"""Cython HTTP/1.x response-head parser: kernel `http1` (docs/KERNELS.md §6).

The head is walked in C: `memchr` finds each LF (a line ends only at CRLF, a bare CR or LF
is data, as in the Python twin's `split(b"\\r\\n")`), names are lowered while they are
copied into their str, and only the results become Python objects.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.list cimport PyList_Append
from cpython.unicode cimport PyUnicode_DecodeLatin1
from libc.string cimport memchr, memcmp, memcpy

from lunaroute.errors import HttpHeadError, InvalidArgumentError

include "_bytes.pxi"

cdef enum:
    _CHUNKED = 1
    _KEEP_ALIVE = 2
    _QUOTE = 80  # bytes of a bad line or value an error message shows

cdef unsigned long long _MAX_CONTENT_LENGTH = 9223372036854775807ULL


cdef extern from "Python.h":
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
    if type(buf) is bytes:
        p = <const unsigned char*>PyBytes_AS_STRING(buf)
        size = PyBytes_GET_SIZE(buf)
    elif isinstance(buf, str):
        raise TypeError("parse_response_head() takes bytes-like data, not str")
    else:
        # a held buffer: a bytearray cannot be resized while it is parsed
        _acquire_bytes(buf, &view)
        held = True
        p = <const unsigned char*>view.buf
        size = view.len
    try:
        if not isinstance(max_head, int):
            raise TypeError(f"max_head must be an int, not {type(max_head).__name__}")
        if max_head < 0:
            raise InvalidArgumentError(f"max_head must be >= 0, got {max_head}")
        return _parse(p, size, max_head)
    finally:
        if held:
            PyBuffer_Release(&view)
