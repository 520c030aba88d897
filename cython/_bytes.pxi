# Shared by the Cython kernels (textually included): read-only access to the raw bytes of
# a bytes-like argument through the buffer protocol.
#
# Why a held Py_buffer and not a plain pointer: a bytearray (or mmap) that is exported
# cannot be resized or closed, so the pointer stays valid even if Python code (a GC pass,
# a __del__) runs while a kernel is still reading it.
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from cpython.bytes cimport PyBytes_AS_STRING as _bytes_data, PyBytes_GET_SIZE as _bytes_size


cdef int _acquire_bytes(object obj, Py_buffer* view) except -1:
    """Fill `view` with the raw bytes of `obj` (C-contiguous, any item format).

    A buffer that is not C-contiguous (a strided memoryview) is copied first, exactly
    like `memoryview.tobytes()`; the copy lives as long as the view (view.obj owns it).
    """
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except BufferError:
        if not isinstance(obj, memoryview):
            raise
        PyObject_GetBuffer((<object>obj).tobytes(), view, PyBUF_SIMPLE)
    return 0


cdef int _borrow_bytes(object obj, Py_buffer* view, const unsigned char** p, Py_ssize_t* n,
                       str caller) except -1:
    """Point *p / *n at the bytes of `obj`, the argument of kernel function `caller`.

    Returns 0 for `bytes` (read in place, nothing to release) and 1 when `view` was filled
    and must be released with PyBuffer_Release. A `str` is refused with the TypeError every
    backend raises.
    """
    if type(obj) is bytes:
        p[0] = <const unsigned char*>_bytes_data(obj)
        n[0] = _bytes_size(obj)
        return 0
    if isinstance(obj, str):
        raise TypeError(f"{caller}() takes bytes-like data, not str")
    _acquire_bytes(obj, view)
    p[0] = <const unsigned char*>view.buf
    n[0] = view.len
    return 1
