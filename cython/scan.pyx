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

Per call, bytes and bytearray are read in place and exact ints converted directly: the
framer-style caller makes one call per line, so the fixed cost matters as much as the
scan.
"""
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.number cimport PyNumber_Index
from libc.string cimport memchr, memset

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

    if type(data) is bytes:
        p = <const unsigned char*>PyBytes_AS_STRING(data)
        size = PyBytes_GET_SIZE(data)
    elif isinstance(data, str):
        raise TypeError("find_any() takes bytes-like data, not str")
    else:
        # bytearray too: an exported buffer cannot be resized while it is scanned.
        _acquire_bytes(data, &view)
        held = True
        p = <const unsigned char*>view.buf
        size = view.len
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
