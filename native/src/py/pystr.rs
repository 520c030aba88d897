//! Python `str` objects made from raw bytes, with ASCII (nearly every header and JSON event)
//! copied straight into a compact str instead of going through a decoder.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// A CPython decoder call for the non-ASCII case: returns a new reference, or NULL with an
/// exception set.
pub(crate) type Decoder = unsafe fn(&[u8]) -> *mut ffi::PyObject;

/// `raw` as a str: `ascii` says the caller checked that every byte is below 0x80 (each
/// caller has its own fastest check); otherwise `decode` builds it.
pub(crate) fn str_from<'py>(
    py: Python<'py>,
    raw: &[u8],
    ascii: bool,
    decode: Decoder,
) -> PyResult<Bound<'py, PyString>> {
    // SAFETY: PyUnicode_New(len, 127) makes a compact ASCII str whose 1-byte data area
    // holds exactly `len` bytes, all filled with ASCII (the caller's `ascii`) before anyone
    // sees it. `decode` gets a valid slice. Both return a new reference or NULL with an
    // exception set, which from_owned_ptr_or_err turns into the PyErr.
    unsafe {
        let obj = if ascii {
            let obj = ffi::PyUnicode_New(raw.len() as ffi::Py_ssize_t, 127);
            if !obj.is_null() {
                std::ptr::copy_nonoverlapping(
                    raw.as_ptr(),
                    ffi::PyUnicode_1BYTE_DATA(obj),
                    raw.len(),
                );
            }
            obj
        } else {
            decode(raw)
        };
        Ok(Bound::from_owned_ptr_or_err(py, obj)?.cast_into_unchecked::<PyString>())
    }
}
