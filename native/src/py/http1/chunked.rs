//! `ChunkedDecoder` (kernel `http1`).

use std::ops::Range;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::core::http1::chunked::{ChunkedDecoder as Decoder, ChunkedError, DEFAULT_MAX_SIZE_LINE};
use crate::py::args::{int_or, Arg};
use crate::py::errors::{ChunkedEncodingError, InvalidArgumentError};
use crate::py::scan::Haystack;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ChunkedDecoder>()
}

fn error(e: ChunkedError) -> PyErr {
    ChunkedEncodingError::new_err(e.to_string())
}

/// Incremental decoder of an HTTP/1.1 `Transfer-Encoding: chunked` body.
#[pyclass(module = "lunaroute._native", name = "ChunkedDecoder")]
pub struct ChunkedDecoder {
    decoder: Decoder,
    /// Where each feed's chunk data lies in its input (kept to reuse the allocation).
    spans: Vec<Range<usize>>,
}

#[pymethods]
impl ChunkedDecoder {
    #[new]
    #[pyo3(
        signature = (max_size_line = Arg::Omitted),
        text_signature = "(max_size_line=1024)"
    )]
    fn new(max_size_line: Arg<'_>) -> PyResult<Self> {
        let max = int_or(
            &max_size_line,
            "max_size_line",
            DEFAULT_MAX_SIZE_LINE as i64,
        )?;
        if max < 1 {
            return Err(InvalidArgumentError::new_err(format!(
                "max_size_line must be >= 1, got {max}"
            )));
        }
        Ok(ChunkedDecoder {
            decoder: Decoder::new(usize::try_from(max).unwrap_or(usize::MAX)),
            spans: Vec::new(),
        })
    }

    /// Decodes `data`; returns the chunk data it completed (b"" when none).
    fn feed<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
        let py = data.py();
        let hay = Haystack::get(data, "feed")?;
        let input = hay.bytes();
        self.spans.clear();
        self.decoder.feed(input, &mut self.spans).map_err(error)?;
        let spans = self.spans.as_slice();
        match spans {
            [] => return Ok(PyBytes::new(py, b"")),
            // all of it is data (a read inside a large chunk): bytes are immutable, so the
            // input itself is the answer
            [only] if only.len() == input.len() => {
                if let Haystack::Bytes(b) = &hay {
                    return Ok(b.clone());
                }
            }
            _ => {}
        }
        // one allocation, filled straight from the input (the held buffer stays put)
        let total = spans.iter().map(|s| s.len()).sum();
        PyBytes::new_with(py, total, |out| {
            let mut at = 0;
            for s in spans {
                out[at..at + s.len()].copy_from_slice(&input[s.clone()]);
                at += s.len();
            }
            Ok(())
        })
    }

    /// The last chunk and the trailer section have been consumed.
    #[getter]
    fn done(&self) -> bool {
        self.decoder.is_done()
    }

    /// Bytes fed after the end of the message (not decoded).
    #[getter]
    fn trailing<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.decoder.trailing())
    }

    /// Bytes of an unfinished size line, CRLF or trailer line, waiting for more input.
    #[getter]
    fn buffered(&self) -> usize {
        self.decoder.buffered()
    }
}
