//! `find_any`, `top_level_span` and `simd_level` (kernel `scan`).

use std::sync::OnceLock;

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};

use super::args::{int_or, int_saturating, Arg};
use super::errors::InvalidArgumentError;
use crate::core::scan::{DelimSet, Finder, JsonSpanFinder, SimdLevel};

/// Searches this long give the GIL back to other threads while they run.
const DETACH_BYTES: usize = 256 * 1024;

static LEVEL: OnceLock<SimdLevel> = OnceLock::new();

/// The level every kernel uses: the CPU's best, unless `LUNAROUTE_SIMD` (read once, when
/// the module is imported) lowers it.
pub fn level() -> SimdLevel {
    *LEVEL.get_or_init(|| {
        SimdLevel::with_override(
            SimdLevel::detect(),
            std::env::var("LUNAROUTE_SIMD").ok().as_deref(),
        )
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    level(); // fix the level at import, as the contract says
    m.add_function(wrap_pyfunction!(find_any, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(top_level_span, m)?)?;
    Ok(())
}

/// The vector instruction set in use: "avx2", "sse2", "neon" or "scalar".
#[pyfunction]
fn simd_level() -> &'static str {
    level().name()
}

/// The smallest index i in [start, end) with data[i] in delims, else -1.
#[pyfunction]
#[pyo3(
    signature = (data, delims, start = Arg::Omitted, end = None),
    text_signature = "(data, delims, start=0, end=None)"
)]
fn find_any(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    delims: &Bound<'_, PyAny>,
    start: Arg<'_>,
    end: Option<&Bound<'_, PyAny>>,
) -> PyResult<i64> {
    let hay = Haystack::get(data, "find_any")?;
    let set = delim_set(delims)?;
    let bytes = hay.bytes();
    let size = bytes.len() as i64;
    let start = int_or(&start, "start", 0)?;
    let end = match end {
        Some(e) => Some(int_saturating(e)?),
        None => None,
    };
    if start < 0 {
        return Err(InvalidArgumentError::new_err(format!(
            "start must be >= 0, got {start}"
        )));
    }
    if let Some(e) = end {
        if e < 0 {
            return Err(InvalidArgumentError::new_err(format!(
                "end must be >= 0, got {e}"
            )));
        }
    }
    if start > size {
        return Err(InvalidArgumentError::new_err(format!(
            "start {start} is past the end of the data ({size} bytes)"
        )));
    }
    let end = end.map_or(size, |e| e.min(size));
    if start >= end {
        return Ok(-1);
    }
    let window = &bytes[start as usize..end as usize];
    let finder = Finder::new(set, level());
    // Both kinds of haystack keep their bytes in place without the GIL: bytes are
    // immutable, and an exporter cannot resize or free a buffer while it is exported.
    let found = if window.len() >= DETACH_BYTES {
        py.detach(|| finder.find(window))
    } else {
        finder.find(window)
    };
    Ok(found.map_or(-1, |i| start + i as i64))
}

fn delim_set(delims: &Bound<'_, PyAny>) -> PyResult<DelimSet> {
    let set = if let Ok(b) = delims.cast::<PyBytes>() {
        DelimSet::new(b.as_bytes())
    } else if let Ok(ba) = delims.cast::<PyByteArray>() {
        DelimSet::new(&ba.to_vec())
    } else {
        return Err(PyTypeError::new_err(format!(
            "delims must be bytes, not {}",
            delims.get_type().name()?
        )));
    };
    set.map_err(|e| InvalidArgumentError::new_err(e.to_string()))
}

/// `(start, end)` of the value of top-level key `key` in the JSON object `body`, or None.
#[pyfunction]
fn top_level_span(
    py: Python<'_>,
    body: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
) -> PyResult<Option<(usize, usize)>> {
    static JSON: OnceLock<JsonSpanFinder> = OnceLock::new();
    let json = JSON.get_or_init(|| JsonSpanFinder::new(level()));
    let body = Haystack::get(body, "top_level_span")?;
    let key = Haystack::get(key, "top_level_span")?;
    let (body, key) = (body.bytes(), key.bytes());
    // held buffers stay in place without the GIL (see find_any)
    let span = if body.len() >= DETACH_BYTES {
        py.detach(|| json.top_level_span(body, key))
    } else {
        json.top_level_span(body, key)
    };
    span.map_err(|e| InvalidArgumentError::new_err(e.to_string()))
}

/// The bytes to search, held the cheapest safe way.
pub(super) enum Haystack<'py> {
    Bytes(Bound<'py, PyBytes>),
    /// An exported buffer: the exporter cannot resize or free it while we hold it.
    Buffer(PyUntypedBuffer),
}

impl<'py> Haystack<'py> {
    /// `data`'s bytes; `function` names the caller in the TypeError for a str.
    pub(super) fn get(data: &Bound<'py, PyAny>, function: &str) -> PyResult<Haystack<'py>> {
        if let Ok(b) = data.cast::<PyBytes>() {
            return Ok(Haystack::Bytes(b.clone()));
        }
        if data.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(format!(
                "{function}() takes bytes-like data, not str"
            )));
        }
        let buf = PyUntypedBuffer::get(data)?; // TypeError for a non-buffer
        if buf.is_c_contiguous() {
            return Ok(Haystack::Buffer(buf));
        }
        // A strided view: search its bytes in logical order, as the Python twin does.
        drop(buf);
        let copy = PyMemoryView::from(data)?.call_method0("tobytes")?;
        Ok(Haystack::Bytes(copy.cast_into::<PyBytes>()?))
    }

    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Haystack::Bytes(b) => b.as_bytes(),
            Haystack::Buffer(buf) => {
                let len = buf.len_bytes();
                if len == 0 {
                    return &[];
                }
                // SAFETY: a C-contiguous exported buffer of `len` bytes, valid while `buf`
                // (borrowed by the returned slice) is held.
                unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, len) }
            }
        }
    }
}
