//! The exceptions of `lunaroute.errors`, raised from Rust: the same classes every backend
//! raises, imported from the Python module on first use.

pyo3::import_exception!(lunaroute.errors, SseLineTooLongError);
pyo3::import_exception!(lunaroute.errors, InvalidPatternError);
pyo3::import_exception!(lunaroute.errors, InvalidArgumentError);
pyo3::import_exception!(lunaroute.errors, BufferPoolError);
pyo3::import_exception!(lunaroute.errors, HttpHeadError);
pyo3::import_exception!(lunaroute.errors, ChunkedEncodingError);
