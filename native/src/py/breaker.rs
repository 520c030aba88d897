//! `CircuitBreaker` and `BREAKER_SLOT_SIZE` (kernel `breaker`).

use std::ptr::NonNull;

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyInt;

use super::args::{int_or, Arg};
use super::errors::InvalidArgumentError;
use crate::core::breaker::{self, monotonic_ms, Breaker, Config};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BREAKER_SLOT_SIZE", breaker::SLOT_SIZE)?;
    m.add_class::<CircuitBreaker>()
}

/// Circuit-breaker counters, private or in a 64-byte slot of a shared buffer.
#[pyclass(module = "lunaroute._native", name = "CircuitBreaker", frozen)]
pub struct CircuitBreaker {
    breaker: Breaker,
    /// The exported buffer holding a shared slot: keeps the memory mapped and unmovable
    /// for as long as the breaker lives (declared after `breaker`, so dropped after it).
    _buffer: Option<PyUntypedBuffer>,
}

fn invalid(msg: String) -> PyErr {
    InvalidArgumentError::new_err(msg)
}

/// The slot at `offset` in `buffer`, checked: writable, contiguous, large enough, and
/// 8-byte aligned (the atomics need it).
fn shared_slot(
    buffer: &Bound<'_, PyAny>,
    offset: i128,
) -> PyResult<(PyUntypedBuffer, NonNull<u8>)> {
    if offset < 0 || offset % 8 != 0 {
        return Err(invalid(format!(
            "offset must be a non-negative multiple of 8, got {offset}"
        )));
    }
    let buf = PyUntypedBuffer::get(buffer)
        .map_err(|e| invalid(format!("buffer must support the buffer protocol: {e}")))?;
    if buf.readonly() {
        return Err(invalid("buffer must be writable".into()));
    }
    if !buf.is_c_contiguous() {
        return Err(invalid("buffer must be contiguous".into()));
    }
    let len = buf.len_bytes();
    if (len as i128) < offset + breaker::SLOT_SIZE as i128 {
        return Err(invalid(format!(
            "buffer of {len} bytes has no {}-byte slot at offset {offset}",
            breaker::SLOT_SIZE
        )));
    }
    // SAFETY: offset + 64 <= len, so the pointer stays inside the exported buffer.
    let ptr = unsafe { (buf.buf_ptr() as *mut u8).add(offset as usize) };
    if ptr as usize % 8 != 0 {
        return Err(invalid("buffer slot is not 8-byte aligned".into()));
    }
    let ptr = NonNull::new(ptr).ok_or_else(|| invalid("buffer has no memory".into()))?;
    Ok((buf, ptr))
}

/// `now_ms` (an int in the u64 range) or, when None, CLOCK_MONOTONIC in milliseconds.
fn now(now_ms: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    let Some(obj) = now_ms else {
        return Ok(monotonic_ms());
    };
    if !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "now_ms must be an int or None, not {}",
            obj.get_type().name()?
        )));
    }
    obj.extract::<u64>()
        .map_err(|_| invalid(format!("now_ms must be a u64 millisecond count, got {obj}")))
}

#[pymethods]
impl CircuitBreaker {
    #[classattr]
    const CLOSED: u8 = breaker::CLOSED;
    #[classattr]
    const OPEN: u8 = breaker::OPEN;
    #[classattr]
    const HALF_OPEN: u8 = breaker::HALF_OPEN;

    #[new]
    #[pyo3(
        signature = (
            failure_threshold = Arg::Omitted,
            reset_timeout_ms = Arg::Omitted,
            half_open_requests = Arg::Omitted,
            buffer = None,
            offset = Arg::Omitted,
        ),
        text_signature = "(failure_threshold=5, reset_timeout_ms=30000, half_open_requests=3, buffer=None, offset=0)"
    )]
    fn new(
        failure_threshold: Arg<'_>,
        reset_timeout_ms: Arg<'_>,
        half_open_requests: Arg<'_>,
        buffer: Option<&Bound<'_, PyAny>>,
        offset: Arg<'_>,
    ) -> PyResult<Self> {
        let cfg = Config::new(
            int_or(&failure_threshold, "failure_threshold", 5)?.into(),
            int_or(&reset_timeout_ms, "reset_timeout_ms", 30_000)?.into(),
            int_or(&half_open_requests, "half_open_requests", 3)?.into(),
        )
        .map_err(|e| invalid(e.to_string()))?;
        match buffer {
            None => Ok(CircuitBreaker {
                breaker: Breaker::owned(cfg),
                _buffer: None,
            }),
            Some(buffer) => {
                let offset = int_or(&offset, "offset", 0)?;
                let (buf, slot) = shared_slot(buffer, offset.into())?;
                // SAFETY: `slot` is aligned, inside a writable exported buffer of at least
                // 64 bytes from it, and `_buffer` keeps that export alive as long as us.
                let breaker = unsafe { Breaker::shared(cfg, slot) };
                Ok(CircuitBreaker {
                    breaker,
                    _buffer: Some(buf),
                })
            }
        }
    }

    /// The state (CLOSED, OPEN or HALF_OPEN), promoting OPEN to HALF_OPEN once the reset
    /// timeout has passed.
    #[pyo3(signature = (now_ms=None))]
    fn state(&self, now_ms: Option<&Bound<'_, PyAny>>) -> PyResult<u8> {
        Ok(self.breaker.state(now(now_ms)?))
    }

    /// May a request go ahead? In HALF_OPEN a True takes one of the trial slots.
    #[pyo3(signature = (now_ms=None))]
    fn allow(&self, now_ms: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        Ok(self.breaker.allow(now(now_ms)?))
    }

    #[pyo3(signature = (now_ms=None))]
    fn record_success(&self, now_ms: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.breaker.record_success(now(now_ms)?);
        Ok(())
    }

    #[pyo3(signature = (now_ms=None))]
    fn record_failure(&self, now_ms: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.breaker.record_failure(now(now_ms)?);
        Ok(())
    }

    /// Back to CLOSED with every counter zero.
    fn reset(&self) {
        self.breaker.reset();
    }

    /// (state, consecutive_failures, half_open_successes, half_open_inflight, opened_at_ms)
    fn snapshot(&self) -> (u8, u16, u16, u16, u64) {
        self.breaker.snapshot()
    }
}
