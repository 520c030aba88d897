//! Kernel `http1` (docs/KERNELS.md §6): the upstream client's HTTP/1.1 byte work, response
//! heads (`head`) and chunked bodies (`chunked`).

pub mod chunked;
pub mod head;
