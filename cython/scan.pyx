# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, annotation_typing=False
"""Cython delimiter scan: kernel `scan` (docs/KERNELS.md §2).

Paths, picked per call by what measured fastest:
- one distinct delimiter: glibc `memchr` (vectorised inside libc);
- a range shorter than _SHORT_RANGE: a C loop over a 256-entry membership table (no
  call overheads to amortise);
- otherwise: one `memchr` per distinct delimiter, block by block, each bounded by the
  best hit so far. Blocks start small (an early hit is cheap) and grow to stay in L1, so
  k delimiters cost k fast passes over cache-hot bytes, not k passes over the data.
`simd_level()` is "scalar": this tier has no explicit vector code of its own.
`top_level_span` (at the end) jumps between JSON structural bytes with the same `_scan`.

Per call, bytes and bytearray are read in place and exact ints converted directly: the
framer-style caller makes one call per line, so the fixed cost matters as much as the
scan.
"""
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.number cimport PyNumber_Index
from libc.string cimport memchr, memcmp, memset

from lunaroute.errors import InvalidArgumentError

include "_bytes.pxi"

cdef enum:
    _MAX_DELIMS = 16
    # Ranges shorter than this go through the table loop.
    _SHORT_RANGE = 64
    # Ranges longer than this are scanned without the GIL (other threads may run).
    _NOGIL_MIN = 65536
    # memchr blocks: the first small, doubling up to the max (about L1 size / 2).
    _BLOCK_FIRST = 256
    _BLOCK_MAX = 16384

# index() results: fits, or which way it overflowed a long long.
cdef enum _Fit:
    FIT = 0
    TOO_BIG = 1
    TOO_SMALL = -1


cdef int _as_index(object value, long long* out) except -2:
    """`operator.index(value)` as a C long long; the return value says which way it overflowed."""
    cdef int overflow = 0
    cdef long long v
    if type(value) is not int:
        value = PyNumber_Index(value)  # TypeError for floats, str, ...
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow > 0:
        return TOO_BIG
    if overflow < 0:
        return TOO_SMALL
    out[0] = v
    return FIT


cdef Py_ssize_t _scan_table(const unsigned char* p, Py_ssize_t start, Py_ssize_t end,
                            const unsigned char* delims, int count) noexcept nogil:
    cdef unsigned char table[256]
    cdef Py_ssize_t i = start
    cdef int k
    memset(table, 0, 256)
    for k in range(count):
        table[delims[k]] = 1
    # Four lookups OR-ed before one branch: the common "no delimiter here" case costs
    # one well-predicted branch per four bytes.
    while i + 4 <= end:
        if table[p[i]] | table[p[i + 1]] | table[p[i + 2]] | table[p[i + 3]]:
            break
        i += 4
    while i < end:
        if table[p[i]]:
            return i
        i += 1
    return -1


cdef Py_ssize_t _scan_memchr(const unsigned char* p, Py_ssize_t start, Py_ssize_t end,
                             const unsigned char* delims, int count) noexcept nogil:
    cdef Py_ssize_t i = start, stop, best, block = _BLOCK_FIRST
    cdef const unsigned char* hit
    cdef int k
    while i < end:
        stop = end if end - i <= block else i + block
        best = stop
        for k in range(count):
            hit = <const unsigned char*>memchr(p + i, delims[k], <size_t>(best - i))
            if hit != NULL:
                best = hit - p
        if best < stop:
            return best
        i = stop
        if block < _BLOCK_MAX:
            block *= 2
    return -1


cdef Py_ssize_t _scan(const unsigned char* p, Py_ssize_t start, Py_ssize_t end,
                      const unsigned char* delims, int count) noexcept nogil:
    cdef const unsigned char* hit
    if count == 1:
        hit = <const unsigned char*>memchr(p + start, delims[0], <size_t>(end - start))
        return -1 if hit == NULL else hit - p
    if end - start < _SHORT_RANGE:
        return _scan_table(p, start, end, delims, count)
    return _scan_memchr(p, start, end, delims, count)


cdef int _distinct(const unsigned char* d, Py_ssize_t n, unsigned char* out) noexcept nogil:
    """The distinct bytes of d[:n] (n <= 16) into out, in first-seen order; their count."""
    cdef Py_ssize_t i
    cdef int j, count = 0
    for i in range(n):
        for j in range(count):
            if out[j] == d[i]:
                break
        else:
            out[count] = d[i]
            count += 1
    return count


def simd_level() -> str:
    """The vector instruction set in use: always "scalar" for this tier."""
    return "scalar"


def find_any(data, delims, start=0, end=None) -> int:
    """The smallest index i in [start, end) with data[i] in delims, else -1."""
    cdef Py_buffer view
    cdef bint held = False
    cdef const unsigned char* p
    cdef const unsigned char* d
    cdef unsigned char distinct_set[_MAX_DELIMS]
    cdef Py_ssize_t size, nd, found
    cdef long long lo = 0, hi = 0
    cdef int fit_lo, fit_hi, distinct

    # bytearray too through a held buffer: an exported one cannot be resized while scanned
    held = _borrow_bytes(data, &view, &p, &size, "find_any")
    try:
        if type(delims) is bytes:
            d = <const unsigned char*>PyBytes_AS_STRING(delims)
            nd = PyBytes_GET_SIZE(delims)
        elif isinstance(delims, bytearray):
            d = <const unsigned char*>PyByteArray_AS_STRING(delims)
            nd = PyByteArray_GET_SIZE(delims)
        elif isinstance(delims, bytes):
            d = <const unsigned char*>PyBytes_AS_STRING(delims)
            nd = PyBytes_GET_SIZE(delims)
        else:
            raise TypeError(f"delims must be bytes, not {type(delims).__name__}")
        if nd < 1 or nd > _MAX_DELIMS:
            raise InvalidArgumentError(
                f"delims must hold 1 to {_MAX_DELIMS} bytes, got {nd}")
        fit_lo = _as_index(start, &lo)
        if fit_lo == TOO_SMALL or (fit_lo == FIT and lo < 0):
            raise InvalidArgumentError(f"start must be >= 0, got {start}")
        if end is None:
            fit_hi = FIT
            hi = size
        else:
            fit_hi = _as_index(end, &hi)
            if fit_hi == TOO_SMALL or (fit_hi == FIT and hi < 0):
                raise InvalidArgumentError(f"end must be >= 0, got {end}")
        if fit_lo == TOO_BIG or lo > size:
            raise InvalidArgumentError(
                f"start {start} is past the end of the data ({size} bytes)")
        if fit_hi == TOO_BIG or hi > size:
            hi = size
        if lo >= hi:
            return -1

        distinct = _distinct(d, nd, distinct_set)
        if hi - lo < _NOGIL_MIN:
            return _scan(p, <Py_ssize_t>lo, <Py_ssize_t>hi, distinct_set, distinct)
        with nogil:
            found = _scan(p, <Py_ssize_t>lo, <Py_ssize_t>hi, distinct_set, distinct)
        return found
    finally:
        if held:
            PyBuffer_Release(&view)


# ---------------------------------------------------------------------------- top_level_span
# The value of a top-level key in a JSON object, found by jumping between structural bytes
# with _scan (docs/KERNELS.md §2). Valid JSON is assumed; a string or container that never
# ends is the one thing reported (InvalidArgumentError), as on the other backends.
cdef const unsigned char* _STRUCTURAL = b'"{}[]'
cdef const unsigned char* _STRING_STOP = b'"\\'
cdef const unsigned char* _SCALAR_STOP = b",}] \t\r\n"

# _span() outcomes besides a found end (>= 0)
cdef enum:
    _ABSENT = -1
    _OPEN_STRING = -2
    _OPEN_VALUE = -3


cdef inline Py_ssize_t _skip_ws(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and (p[i] == 32 or p[i] == 9 or p[i] == 13 or p[i] == 10):
        i += 1
    return i


cdef Py_ssize_t _string_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Index just past the closing quote of the string opened at i, or _OPEN_STRING."""
    cdef Py_ssize_t pos = i + 1, j
    while pos < n:
        j = _scan(p, pos, n, _STRING_STOP, 2)
        if j < 0:
            return _OPEN_STRING
        if p[j] == 92:  # backslash: skip the escaped byte
            pos = j + 2
            continue
        return j + 1
    return _OPEN_STRING


cdef Py_ssize_t _value_end(const unsigned char* p, Py_ssize_t v, Py_ssize_t n,
                           Py_ssize_t* err_at) noexcept nogil:
    """Index just past the value starting at v (v < n), or an error with its start."""
    cdef Py_ssize_t depth = 0, pos = v, j, e
    cdef unsigned char c = p[v]
    if c == 34:
        e = _string_end(p, v, n)
        err_at[0] = v
        return e
    if c != 123 and c != 91:  # number, true, false, null
        j = _scan(p, v, n, _SCALAR_STOP, 7)
        return n if j < 0 else j
    while True:
        j = _scan(p, pos, n, _STRUCTURAL, 5) if pos < n else -1
        if j < 0:
            err_at[0] = v
            return _OPEN_VALUE
        c = p[j]
        if c == 34:
            pos = _string_end(p, j, n)
            if pos < 0:
                err_at[0] = j
                return pos
            continue
        depth += 1 if c == 123 or c == 91 else -1
        pos = j + 1
        if depth == 0:
            return pos


cdef Py_ssize_t _span(const unsigned char* p, Py_ssize_t n, const unsigned char* key,
                      Py_ssize_t kn, Py_ssize_t* start, Py_ssize_t* err_at) noexcept nogil:
    """The end of the value of top-level `key` (its start in *start), or an outcome."""
    cdef Py_ssize_t i, depth = 0, pos, j, end, k, v
    cdef unsigned char c
    i = _skip_ws(p, 0, n)
    if i >= n or p[i] != 123:
        return _ABSENT
    pos = i
    while pos < n:
        j = _scan(p, pos, n, _STRUCTURAL, 5)
        if j < 0:
            return _ABSENT
        c = p[j]
        if c == 34:
            end = _string_end(p, j, n)
            if end < 0:
                err_at[0] = j
                return end
            if depth == 1:
                k = _skip_ws(p, end, n)
                if k < n and p[k] == 58:  # it is a key
                    v = _skip_ws(p, k + 1, n)
                    if end - j - 2 == kn and memcmp(p + j + 1, key, <size_t>kn) == 0:
                        if v >= n:
                            return _ABSENT
                        start[0] = v
                        return _value_end(p, v, n, err_at)
                    # skip the value whole: nested keys are not top-level ones
                    pos = _value_end(p, v, n, err_at) if v < n else n
                    if pos < 0:
                        return pos
                    continue
            pos = end
        elif c == 123 or c == 91:
            depth += 1
            pos = j + 1
        else:
            depth -= 1
            pos = j + 1
    return _ABSENT


def top_level_span(body, key):
    """(start, end) of the value of the first top-level `key` of the JSON object `body`
    (compared as the raw bytes between the quotes), or None."""
    cdef Py_buffer bview, kview
    cdef bint bheld = False, kheld = False
    cdef const unsigned char* p
    cdef const unsigned char* k
    cdef Py_ssize_t n, kn, start = 0, err_at = 0, found
    bheld = _borrow_bytes(body, &bview, &p, &n, "top_level_span")
    try:
        kheld = _borrow_bytes(key, &kview, &k, &kn, "top_level_span")
        if n < _NOGIL_MIN:
            found = _span(p, n, k, kn, &start, &err_at)
        else:
            with nogil:
                found = _span(p, n, k, kn, &start, &err_at)
        if found >= 0:
            return (start, found)
        if found == _OPEN_STRING:
            raise InvalidArgumentError(f"unterminated JSON string starting at byte {err_at}")
        if found == _OPEN_VALUE:
            raise InvalidArgumentError(f"unterminated JSON value starting at byte {err_at}")
        return None
    finally:
        if kheld:
            PyBuffer_Release(&kview)
        if bheld:
            PyBuffer_Release(&bview)
