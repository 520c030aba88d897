//! `parse_response_head` (kernel `http1`).

use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::core::http1::head::{parse_response_head as parse, ResponseHead};
use crate::core::scan::{DelimSet, Finder};
use crate::py::args::{int_or, Arg};
use crate::py::errors::{HttpHeadError, InvalidArgumentError};
use crate::py::pystr::str_from;
use crate::py::scan::{level, Haystack};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parse_response_head, m)?)
}

/// Header names this long or shorter are lowered on the stack.
const NAME_STACK: usize = 64;

/// Header names (lowered) that LLM APIs send on nearly every response. Each becomes one
/// shared str per process: a head's strings are most of its cost, and this spares one
/// allocation per such header per response.
const COMMON_NAMES: [&str; 24] = [
    "date",
    "content-type",
    "content-length",
    "connection",
    "server",
    "transfer-encoding",
    "content-encoding",
    "vary",
    "x-request-id",
    "request-id",
    "openai-processing-ms",
    "openai-version",
    "openai-organization",
    "cf-ray",
    "cf-cache-status",
    "alt-svc",
    "via",
    "set-cookie",
    "strict-transport-security",
    "x-content-type-options",
    "anthropic-organization-id",
    "access-control-allow-origin",
    "cache-control",
    "keep-alive",
];

/// The shared str of a common (lowered) header name, if it is one.
fn common_name<'py>(py: Python<'py>, lowered: &[u8]) -> Option<Bound<'py, PyString>> {
    static STRS: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();
    // a length mismatch fails each comparison at once: a miss costs a few nanoseconds
    let i = COMMON_NAMES.iter().position(|n| n.as_bytes() == lowered)?;
    let strs = STRS.get_or_init(py, || {
        COMMON_NAMES
            .iter()
            .map(|n| PyString::intern(py, n).unbind())
            .collect()
    });
    Some(strs[i].bind(py).clone())
}

/// `(head_len, status, headers, content_length, flags)` of the response head at the start
/// of `buf`, or None while the head is incomplete.
#[pyfunction]
#[pyo3(
    signature = (buf, max_head = Arg::Omitted),
    text_signature = "(buf, max_head=65536)"
)]
fn parse_response_head<'py>(
    py: Python<'py>,
    buf: &Bound<'py, PyAny>,
    max_head: Arg<'py>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    static NEWLINE: OnceLock<Finder> = OnceLock::new();
    let newline =
        NEWLINE.get_or_init(|| Finder::new(DelimSet::new(b"\n").expect("one byte"), level()));
    let hay = Haystack::get(buf, "parse_response_head")?;
    let max_head = int_or(&max_head, "max_head", 65536)?;
    if max_head < 0 {
        return Err(InvalidArgumentError::new_err(format!(
            "max_head must be >= 0, got {max_head}"
        )));
    }
    let head = parse(hay.bytes(), max_head as usize, newline)
        .map_err(|e| HttpHeadError::new_err(e.to_string()))?;
    head.map(|h| head_tuple(py, &h)).transpose()
}

fn head_tuple<'py>(py: Python<'py>, head: &ResponseHead<'_>) -> PyResult<Bound<'py, PyTuple>> {
    let headers = new_list(py, head.headers.len())?;
    let mut lowered = Vec::new();
    for (i, h) in head.headers.iter().enumerate() {
        let name = if h.name.len() <= NAME_STACK {
            let mut stack = [0u8; NAME_STACK];
            let out = &mut stack[..h.name.len()];
            out.copy_from_slice(h.name);
            out.make_ascii_lowercase();
            match common_name(py, out) {
                Some(name) => name,
                None => latin1(py, out)?,
            }
        } else {
            lowered.clear();
            lowered.extend(h.name.iter().map(u8::to_ascii_lowercase));
            latin1(py, &lowered)?
        };
        let pair = tuple(py, [name.into_any(), latin1(py, h.value)?.into_any()])?;
        // SAFETY: `headers` was made with exactly this many slots, each filled once here
        // (SET_ITEM steals the reference into_ptr hands over).
        unsafe { ffi::PyList_SET_ITEM(headers.as_ptr(), i as ffi::Py_ssize_t, pair.into_ptr()) };
    }
    let length = head.content_length.map_or(-1, |n| n as i64);
    tuple(
        py,
        [
            head.head_len.into_pyobject(py)?.into_any(),
            head.status.into_pyobject(py)?.into_any(),
            headers.into_any(),
            length.into_pyobject(py)?.into_any(),
            head.flags.into_pyobject(py)?.into_any(),
        ],
    )
}

/// A list of `len` slots the caller fills (with `PyList_SET_ITEM`) before anyone sees it.
fn new_list(py: Python<'_>, len: usize) -> PyResult<Bound<'_, PyList>> {
    // SAFETY: PyList_New returns a new reference or NULL with an exception set.
    unsafe {
        Ok(
            Bound::from_owned_ptr_or_err(py, ffi::PyList_New(len as ffi::Py_ssize_t))?
                .cast_into_unchecked::<PyList>(),
        )
    }
}

/// A tuple of `items`, built in place (pyo3's generic constructor costs about as much as
/// the strings themselves on a head's 30-odd small objects).
fn tuple<'py, const N: usize>(
    py: Python<'py>,
    items: [Bound<'py, PyAny>; N],
) -> PyResult<Bound<'py, PyTuple>> {
    // SAFETY: PyTuple_New(N) returns a new tuple (or NULL with an exception set) whose N
    // slots are each filled once, with a reference we own, before it is used.
    unsafe {
        let t = Bound::from_owned_ptr_or_err(py, ffi::PyTuple_New(N as ffi::Py_ssize_t))?;
        for (i, item) in items.into_iter().enumerate() {
            ffi::PyTuple_SET_ITEM(t.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr());
        }
        Ok(t.cast_into_unchecked::<PyTuple>())
    }
}

/// `raw.decode("latin-1")`: ASCII (nearly every header) is copied straight into a compact
/// str, anything else goes through CPython's decoder (which picks the canonical kind).
fn latin1<'py>(py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyString>> {
    str_from(py, raw, raw.is_ascii(), decode_latin1)
}

/// SAFETY (for callers): CPython's latin-1 decoder on a valid slice; it cannot fail to
/// decode (every byte maps), so NULL only means out of memory.
unsafe fn decode_latin1(raw: &[u8]) -> *mut ffi::PyObject {
    ffi::PyUnicode_DecodeLatin1(
        raw.as_ptr().cast(),
        raw.len() as ffi::Py_ssize_t,
        std::ptr::null(),
    )
}
