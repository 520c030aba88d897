//! The kernels in plain Rust, free of pyo3, so `cargo test` exercises them directly.
//! `crate::py` wraps each one for Python.

pub mod breaker;
pub mod bufpool;
pub mod http1;
pub mod matcher;
pub mod scan;
pub mod sse;
pub mod xlate;
