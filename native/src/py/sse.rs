//! `SseFramer` (kernel `sse`).

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use super::args::{byte_arg, int_or, Arg};
use super::errors::{InvalidArgumentError, SseLineTooLongError};
use super::pystr::str_from;
use crate::core::sse::{Event, FramerError, SseParser};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SseFramer>()
}

/// How many distinct event types / ids keep a ready-made str: a stream cycles through a
/// handful (`content_block_delta`, `ping`, ...), so each event reuses one.
const STR_CACHE: usize = 8;

/// Recently seen byte strings and their Python str.
#[derive(Default)]
pub(super) struct StrCache {
    entries: Vec<(Vec<u8>, Py<PyString>)>,
}

impl StrCache {
    pub(super) fn get<'py>(&mut self, py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        // streams repeat one name in runs: the most recent entry is checked first
        if let Some((k, v)) = self.entries.first() {
            if k.as_slice() == raw {
                return Ok(v.bind(py).clone().into_any());
            }
        }
        if let Some(i) = self.entries.iter().position(|(k, _)| k.as_slice() == raw) {
            if i != 0 {
                self.entries[..=i].rotate_right(1); // most recent first
            }
            return Ok(self.entries[0].1.bind(py).clone().into_any());
        }
        let s = decode_utf8_replace(py, raw)?;
        if self.entries.len() == STR_CACHE {
            self.entries.pop();
        }
        self.entries.insert(0, (raw.to_vec(), s.clone().unbind()));
        Ok(s.into_any())
    }
}

/// `raw.decode("utf-8", "replace")`. ASCII (the bulk of JSON event data) is copied
/// straight into a new compact str; anything else goes through CPython's own decoder so
/// that replacement characters land exactly where the Python twin puts them.
pub(super) fn decode_utf8_replace<'py>(
    py: Python<'py>,
    raw: &[u8],
) -> PyResult<Bound<'py, PyString>> {
    str_from(py, raw, is_ascii(raw), decode_utf8_lossy)
}

/// SAFETY (for callers): CPython's UTF-8 decoder on a valid slice with the NUL-terminated
/// "replace" error handler.
unsafe fn decode_utf8_lossy(raw: &[u8]) -> *mut ffi::PyObject {
    ffi::PyUnicode_DecodeUTF8(
        raw.as_ptr().cast(),
        raw.len() as ffi::Py_ssize_t,
        c"replace".as_ptr(),
    )
}

/// `raw.is_ascii()`, 16 bytes a step (the standard one walks word by word with an early
/// exit, several times slower on event-sized inputs).
#[inline]
fn is_ascii(raw: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let mut blocks = raw.chunks_exact(16);
        // SAFETY: SSE2 is part of the x86_64 baseline; every load reads 16 bytes of a
        // 16-byte block.
        let high = unsafe {
            let mut acc = _mm_setzero_si128();
            for block in &mut blocks {
                acc = _mm_or_si128(acc, _mm_loadu_si128(block.as_ptr().cast()));
            }
            _mm_movemask_epi8(acc)
        };
        high == 0 && blocks.remainder().iter().all(|&b| b < 0x80)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        raw.chunks(4096)
            .all(|c| c.iter().fold(0u8, |acc, &b| acc | b) < 0x80)
    }
}

/// The event tuple, built in place and left out of the cycle collector: it holds only
/// str, int and None, which can never be part of a reference cycle (CPython would untrack
/// it itself at its first collection; doing it now spares every collection the visit).
fn event_tuple<'py>(
    py: Python<'py>,
    items: [Bound<'py, PyAny>; 4],
) -> PyResult<Bound<'py, PyTuple>> {
    // SAFETY: PyTuple_New(4) returns a new tuple (or NULL with an exception set) whose
    // four slots we fill, each with a reference we own, before it is used; untracking a
    // freshly made, tracked tuple is allowed.
    unsafe {
        let t = ffi::PyTuple_New(4);
        let t = Bound::from_owned_ptr_or_err(py, t)?;
        for (i, item) in items.into_iter().enumerate() {
            ffi::PyTuple_SET_ITEM(t.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr());
        }
        ffi::PyObject_GC_UnTrack(t.as_ptr().cast());
        Ok(t.cast_into_unchecked::<PyTuple>())
    }
}

/// Incremental `text/event-stream` parser (WHATWG "Interpreting an event stream").
#[pyclass(module = "lunaroute._native", name = "SseFramer")]
pub struct SseFramer {
    parser: SseParser,
    /// Where a `bytearray` chunk is copied before parsing.
    scratch: Vec<u8>,
    types: StrCache,
    ids: StrCache,
}

impl SseFramer {
    fn error<E>(&self, e: FramerError<E>) -> PyErr
    where
        PyErr: From<E>,
    {
        match e {
            FramerError::LineTooLong { max_line_bytes } => SseLineTooLongError::new_err(format!(
                "SSE line longer than max_line_bytes={max_line_bytes} bytes without a line ending"
            )),
            FramerError::Sink(err) => err.into(),
        }
    }
}

fn poisoned_error() -> PyErr {
    SseLineTooLongError::new_err("SSE framer is unusable after a line-too-long error")
}

#[pymethods]
impl SseFramer {
    #[new]
    #[pyo3(
        signature = (max_line_bytes = Arg::Omitted),
        text_signature = "(max_line_bytes=1048576)"
    )]
    fn new(max_line_bytes: Arg<'_>) -> PyResult<Self> {
        let max = int_or(&max_line_bytes, "max_line_bytes", 1_048_576)?;
        if max < 1 {
            return Err(InvalidArgumentError::new_err(format!(
                "max_line_bytes must be >= 1, got {max}"
            )));
        }
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        Ok(SseFramer {
            parser: SseParser::new(max, super::scan::level()),
            scratch: Vec::new(),
            types: StrCache::default(),
            ids: StrCache::default(),
        })
    }

    /// Parses a chunk; returns the events it completed as (event_type, data, id, retry).
    fn feed<'py>(&mut self, chunk: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = chunk.py();
        let arg = byte_arg(chunk, &mut self.scratch, "feed()")?;
        if self.parser.is_poisoned() {
            return Err(poisoned_error());
        }
        let out = PyList::empty(py);
        let SseFramer {
            parser,
            scratch,
            types,
            ids,
        } = self;
        let bytes = arg.bytes(scratch);
        let message = pyo3::intern!(py, "message");
        let empty = pyo3::intern!(py, "");
        let result = parser.feed(bytes, &mut |e: Event<'_>| -> PyResult<()> {
            let event_type = if e.event_type.is_empty() {
                message.clone().into_any()
            } else {
                types.get(py, e.event_type)?
            };
            let id = if e.id.is_empty() {
                empty.clone().into_any()
            } else {
                ids.get(py, e.id)?
            };
            let data = decode_utf8_replace(py, e.data)?.into_any();
            let retry = match e.retry {
                Some(ms) => ms.into_pyobject(py)?.into_any(),
                None => py.None().into_bound(py),
            };
            out.append(event_tuple(py, [event_type, data, id, retry])?)
        });
        if self.scratch.capacity() > 1 << 20 {
            self.scratch = Vec::new(); // one huge chunk must not pin its copy
        }
        result.map_err(|e| self.error(e))?;
        Ok(out)
    }

    /// End of stream: discards the undispatched event and readies the framer for a new
    /// stream. Always returns [].
    fn close<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        if self.parser.is_poisoned() {
            return Err(poisoned_error());
        }
        self.parser.close::<PyErr>().map_err(|e| self.error(e))?;
        Ok(PyList::empty(py))
    }

    #[getter]
    fn last_event_id<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let id = self.parser.last_event_id();
        if id.is_empty() {
            return Ok(pyo3::intern!(py, "").clone().into_any());
        }
        self.ids.get(py, id)
    }

    #[getter]
    fn retry(&self) -> Option<u64> {
        self.parser.retry()
    }

    #[getter]
    fn buffered(&self) -> usize {
        self.parser.buffered()
    }
}
