//! Kernel `http1`: `parse_response_head` (`head`) and `ChunkedDecoder` (`chunked`).

mod chunked;
mod head;

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    head::register(m)?;
    chunked::register(m)
}
