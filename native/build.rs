// `cargo test` builds a test binary that links libpython (pyo3 does unless building the
// extension module); give it an rpath to the interpreter's library directory so the
// binary runs without LD_LIBRARY_PATH. No effect on the extension module itself.
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
