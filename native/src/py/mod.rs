//! The Python face of the kernels.

mod args;
mod breaker;
mod bufpool;
mod errors;
mod http1;
mod matcher;
mod pystr;
mod scan;
mod sse;
mod xlate;

use pyo3::prelude::*;

/// The package version this build belongs to: the crate version, kept equal to
/// `lunaroute.__version__` (the kernel loader refuses a mismatch).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", VERSION)?;
    m.add_function(wrap_pyfunction!(cpu_supported, m)?)?;
    scan::register(m)?;
    sse::register(m)?;
    bufpool::register(m)?;
    breaker::register(m)?;
    matcher::register(m)?;
    http1::register(m)?;
    xlate::register(m)?;
    Ok(())
}

/// True when this CPU runs every instruction the module was compiled to assume.
///
/// The vector paths are chosen at run time, so a default build only assumes the
/// architecture's baseline; a build with `-C target-cpu=...` may assume more, and is
/// refused (the loader falls back to another tier) on a CPU without it.
#[pyfunction]
fn cpu_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! needs {
            ($($f:tt),*) => {
                $( if cfg!(target_feature = $f) && !std::is_x86_feature_detected!($f) {
                    return false;
                } )*
            };
        }
        needs!(
            "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "bmi1", "bmi2", "fma",
            "lzcnt", "avx512f", "avx512bw"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        if cfg!(target_feature = "neon") && !std::arch::is_aarch64_feature_detected!("neon") {
            return false;
        }
    }
    true
}
