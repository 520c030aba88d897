//! `lunaroute._native`: LunaRoute's hot-path kernels in Rust.
//!
//! `core` holds the kernels in plain Rust (tested with `cargo test`, no Python needed);
//! `py` wraps them for Python with the exact names, signatures, results and exceptions
//! of docs/KERNELS.md, shared with the Cython and pure-Python tiers.

pub mod core;
mod py;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
