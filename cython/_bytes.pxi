# Shared by the Cython kernels (textually included): read-only access to the raw bytes of
# a bytes-like argument through the buffer protocol.
#
# Why a held Py_buffer and not a plain pointer: a bytearray (or mmap) that is exported
# cannot be resized or closed, so the pointer stays valid even if Python code (a GC pass,
# a __del__) runs while a kernel is still reading it.
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE


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
