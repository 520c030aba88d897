//! `StreamTranslator` (kernel `xlate`).

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyTuple};

use super::args::{byte_arg, int_or, Arg};
use super::errors::{InvalidArgumentError, SseLineTooLongError};
use super::sse::{decode_utf8_replace, StrCache};
use crate::core::sse::FramerError;
use crate::core::xlate::{Source, Translator};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<StreamTranslator>()
}

/// The output buffer is kept between calls up to this capacity.
const OUT_KEEP: usize = 1 << 20;

/// A translated stream's fast path: frames upstream SSE bytes and translates its delta
/// events by the routes the caller sets; every other event is handed back.
#[pyclass(module = "lunaroute._native", name = "StreamTranslator")]
pub struct StreamTranslator {
    core: Translator,
    /// Where a `bytearray` chunk is copied before framing.
    scratch: Vec<u8>,
    /// The bytes one `next` translates.
    out: Vec<u8>,
    types: StrCache,
}

#[pymethods]
impl StreamTranslator {
    #[new]
    #[pyo3(
        signature = (source, max_line_bytes = Arg::Omitted),
        text_signature = "(source, max_line_bytes=1048576)"
    )]
    fn new(source: &Bound<'_, PyAny>, max_line_bytes: Arg<'_>) -> PyResult<Self> {
        // `type(source) is int` in the twin: a bool or an int subclass is refused too
        let code = if source.is_exact_instance_of::<PyInt>() {
            source.extract::<i64>().ok()
        } else {
            None
        };
        let Some(source) = code.and_then(Source::from_code) else {
            return Err(InvalidArgumentError::new_err(format!(
                "source must be 0 (OpenAI) or 1 (Anthropic), got {}",
                source.repr()?
            )));
        };
        let max = int_or(&max_line_bytes, "max_line_bytes", 1_048_576)?;
        if max < 1 {
            return Err(InvalidArgumentError::new_err(format!(
                "max_line_bytes must be >= 1, got {max}"
            )));
        }
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        Ok(StreamTranslator {
            core: Translator::new(source, max, super::scan::level()),
            scratch: Vec::new(),
            out: Vec::new(),
            types: StrCache::default(),
        })
    }

    /// Frames `chunk`; its complete events wait for `next()`.
    fn feed(&mut self, chunk: &Bound<'_, PyAny>) -> PyResult<()> {
        let arg = byte_arg(chunk, &mut self.scratch, "feed()")?;
        if self.core.is_poisoned() {
            return Err(SseLineTooLongError::new_err(
                "SSE framer is unusable after a line-too-long error",
            ));
        }
        let result = self.core.feed(arg.bytes(&self.scratch));
        if self.scratch.capacity() > OUT_KEEP {
            self.scratch = Vec::new(); // one huge chunk must not pin its copy
        }
        result.map_err(|e| match e {
            FramerError::LineTooLong { max_line_bytes } => SseLineTooLongError::new_err(format!(
                "SSE line longer than max_line_bytes={max_line_bytes} bytes without a line ending"
            )),
            FramerError::Sink(never) => match never {},
        })
    }

    /// Translates queued events up to the first one the caller must handle: (the bytes of
    /// the translated ones, that event as (type, data)); (bytes, None) once the queue is
    /// empty.
    fn next<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let StreamTranslator {
            core, out, types, ..
        } = self;
        out.clear();
        let event = match core.next(out) {
            None => py.None().into_bound(py),
            Some(h) => {
                let event_type = if h.event_type.is_empty() {
                    pyo3::intern!(py, "message").clone().into_any()
                } else {
                    types.get(py, h.event_type)?
                };
                let data = decode_utf8_replace(py, h.data)?.into_any();
                PyTuple::new(py, [event_type, data])?.into_any()
            }
        };
        let bytes = PyBytes::new(py, out).into_any();
        if out.capacity() > OUT_KEEP {
            *out = Vec::new();
        }
        PyTuple::new(py, [bytes, event])
    }

    /// Deltas of `field` addressed to upstream block `key` become `prefix + json(value) +
    /// suffix`; nothing when `prefix` is None, or when the value is empty and either not
    /// `emit_empty` or the source is OpenAI.
    fn route(
        &mut self,
        key: &Bound<'_, PyAny>,
        field: &Bound<'_, PyAny>,
        prefix: Option<&[u8]>,
        suffix: &[u8],
        emit_empty: bool,
    ) -> PyResult<()> {
        let (Some(key), Some(field)) = (route_int(key)?, route_int(field)?) else {
            // No delta ever carries a number past i64 (they are handed back), so such a
            // route could never apply.
            return Ok(());
        };
        self.core.route(key, field, prefix, suffix, emit_empty);
        Ok(())
    }

    #[pyo3(signature = (ping))]
    fn set_ping(&mut self, ping: Option<&[u8]>) {
        self.core.set_ping(ping);
    }

    /// No routes and no ping: every event is handed back.
    fn clear(&mut self) {
        self.core.clear();
    }
}

/// A route's key or field: an int (TypeError otherwise), None when past i64.
fn route_int(obj: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    match obj.extract::<i64>() {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Ok(None),
        Err(e) => Err(e),
    }
}
