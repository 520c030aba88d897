//! Argument helpers shared by the bindings.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt, PyMemoryView};

/// An argument with a documented default, telling "not passed" (the default) from an
/// explicit `None`, which is a value like any other (a TypeError where an int is due, as
/// in the Python twin).
pub enum Arg<'py> {
    Omitted,
    Given(Bound<'py, PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Arg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Arg::Given(obj.to_owned()))
    }
}

/// An int argument (saturated, see [`int_saturating`]), or `default` when omitted.
/// Anything but an int raises TypeError naming `name`.
pub fn int_or(arg: &Arg<'_>, name: &str, default: i64) -> PyResult<i64> {
    match arg {
        Arg::Omitted => Ok(default),
        Arg::Given(obj) => {
            if !obj.is_instance_of::<PyInt>() {
                return Err(PyTypeError::new_err(format!(
                    "{name} must be an int, not {}",
                    obj.get_type().name()?
                )));
            }
            int_saturating(obj)
        }
    }
}

/// An int argument as i64, saturated: Python ints have no bounds, and a value past i64 is
/// as out-of-range as i64::MAX/MIN for every check we make. Non-ints raise TypeError.
pub fn int_saturating(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    match obj.extract::<i64>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
            Ok(if obj.lt(0)? { i64::MIN } else { i64::MAX })
        }
        Err(e) => Err(e),
    }
}

/// Raw bytes of a `bytes`, `bytearray` or `memoryview` argument.
///
/// `bytes` is borrowed as is (immutable, kept alive by the caller's reference). A
/// `bytearray` is copied into `scratch`: its storage could move if Python code ran while
/// we hold it. A `memoryview` goes through `bytes(view)` (any format, any layout, as the
/// Python twin does). Anything else, `str` included, is a TypeError naming `what`.
pub enum ByteArg<'py> {
    Borrowed(Bound<'py, PyBytes>),
    Copied,
}

pub fn byte_arg<'py>(
    obj: &Bound<'py, PyAny>,
    scratch: &mut Vec<u8>,
    what: &str,
) -> PyResult<ByteArg<'py>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(ByteArg::Borrowed(b.clone()));
    }
    if let Ok(ba) = obj.cast::<PyByteArray>() {
        scratch.clear();
        // SAFETY: no Python code runs between borrowing and copying.
        scratch.extend_from_slice(unsafe { ba.as_bytes() });
        return Ok(ByteArg::Copied);
    }
    if obj.cast::<PyMemoryView>().is_ok() {
        let owned = obj.py().get_type::<PyBytes>().call1((obj,))?;
        return Ok(ByteArg::Borrowed(owned.cast_into::<PyBytes>()?));
    }
    Err(PyTypeError::new_err(format!(
        "{what} takes bytes, bytearray or memoryview, not {}",
        obj.get_type().name()?
    )))
}

impl<'py> ByteArg<'py> {
    pub fn bytes<'a>(&'a self, scratch: &'a [u8]) -> &'a [u8] {
        match self {
            ByteArg::Borrowed(b) => b.as_bytes(),
            ByteArg::Copied => scratch,
        }
    }
}
