//! `BufferPool` (kernel `bufpool`).

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict};

use super::args::{int_or, Arg};
use super::errors::{BufferPoolError, InvalidArgumentError};
use crate::core::bufpool::Pool;

/// A buffer grown past this many times `buffer_size` is not kept: one huge stream must
/// not pin its memory in the pool forever.
const OVERSIZE_FACTOR: usize = 4;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BufferPool>()
}

/// A bounded, thread-safe pool of reusable `bytearray` buffers (filled lazily).
#[pyclass(module = "lunaroute._native", name = "BufferPool", frozen)]
pub struct BufferPool {
    pool: Pool<Py<PyByteArray>>,
    buffer_size: usize,
    limit: usize,
}

fn at_least(arg: &Arg<'_>, name: &str, default: i64, min: i64) -> PyResult<usize> {
    let v = int_or(arg, name, default)?;
    if v < min {
        return Err(InvalidArgumentError::new_err(format!(
            "{name} must be >= {min}, got {v}"
        )));
    }
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

#[pymethods]
impl BufferPool {
    #[new]
    #[pyo3(
        signature = (capacity = Arg::Omitted, buffer_size = Arg::Omitted),
        text_signature = "(capacity=1024, buffer_size=65536)"
    )]
    fn new(capacity: Arg<'_>, buffer_size: Arg<'_>) -> PyResult<Self> {
        let capacity = at_least(&capacity, "capacity", 1024, 0)?;
        let buffer_size = at_least(&buffer_size, "buffer_size", 65536, 1)?;
        Ok(BufferPool {
            pool: Pool::new(capacity),
            buffer_size,
            limit: buffer_size.saturating_mul(OVERSIZE_FACTOR),
        })
    }

    #[getter]
    fn capacity(&self) -> usize {
        self.pool.capacity()
    }

    #[getter]
    fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    /// An empty buffer: an idle one when there is one (a hit), else a new one (a miss).
    fn acquire<'py>(&self, py: Python<'py>) -> Bound<'py, PyByteArray> {
        match self.pool.acquire() {
            Some(buf) => buf.into_bound(py),
            None => PyByteArray::new(py, &[]),
        }
    }

    /// Clears `buf` and keeps it for reuse; False when it was dropped instead.
    fn release(&self, buf: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(ba) = buf.cast::<PyByteArray>() else {
            return Err(BufferPoolError::new_err(format!(
                "release() takes a bytearray, not {}",
                buf.get_type().name()?
            )));
        };
        let oversize = ba.len() > self.limit;
        if let Err(e) = ba.resize(0) {
            // a memoryview of it is still alive
            return Err(BufferPoolError::new_err(format!(
                "cannot release a buffer that is still in use: {}",
                e.value(buf.py())
            )));
        }
        Ok(self.pool.release(ba.clone().unbind(), oversize))
    }

    /// How many buffers are idle in the pool now.
    fn available(&self) -> usize {
        self.pool.available()
    }

    /// {"hits", "misses", "released", "dropped"}
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.pool.stats();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("released", s.released)?;
        d.set_item("dropped", s.dropped)?;
        Ok(d)
    }
}
